"""Adapters that read and write case files and other formats."""
