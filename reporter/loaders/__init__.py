"""Model file formats' loaders: each turns one format's files into a described model bound for
what a task needs (see `reporter.formats` for the registry and what a format declares)."""
