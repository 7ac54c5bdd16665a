"""Model file formats: each module checks one format's files by that format's own rules before
anything in them is read into memory or handed to a framework."""
