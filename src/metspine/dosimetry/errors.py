"""The one error type of the dosimetry package."""

from __future__ import annotations


class DosimetryInputError(ValueError):
    """A DICOM-RT input cannot be used: the message names the file or field and why.

    The CLI turns it into exit code 2. It subclasses ``ValueError`` so callers that only know the
    standard library can still catch it.
    """
