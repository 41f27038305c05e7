"""Thin shim: `python cli.py ...` behaves exactly like the `adactx` console script."""

from adactx.cli import main

if __name__ == "__main__":
    main()
