"""`python -m wbqa.app.cli`: the `wbqa` command."""

from wbqa.app.cli import main

if __name__ == "__main__":
    main()
