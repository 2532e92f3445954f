"""``python -m deadpan``: the command line (``torchrun --nproc-per-node 2 -m deadpan run train.py``)."""

from deadpan.cli import main

if __name__ == "__main__":
    main()
