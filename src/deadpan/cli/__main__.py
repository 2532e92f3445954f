"""``python -m deadpan.cli``: the command line, as ``deadpan`` runs it."""

from deadpan.cli import main

if __name__ == "__main__":
    main()
