"""Citizen-facing views, one module per part of the journey."""
