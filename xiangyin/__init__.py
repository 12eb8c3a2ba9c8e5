"""Xiangyin (乡音): configuration and the command line that ties the packages together."""

__version__ = "0.1.0"
