"""``python -m targetrank`` runs the CLI."""

from targetrank.cli import main

if __name__ == "__main__":
    main()
