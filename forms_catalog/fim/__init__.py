"""FIM XDatenfelder 2.0/3.0 import (with genericode code lists) and XDatenfelder 3 export.

`xdf_read` and `codelists` parse untrusted XML into a neutral model, `mapping`
turns it into a form definition, `export` writes a definition as XDatenfelder 3,
`report` collects what could not be carried over; `services` ties them to
services and form versions. See docs/fim.md.
"""
