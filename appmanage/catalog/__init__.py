"""Catalog sources, typed parameters and rendering of templates into app folders."""
