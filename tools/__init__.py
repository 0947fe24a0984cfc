"""Developer tools run by the Makefile (``make upgrade``); not part of the installed package."""
