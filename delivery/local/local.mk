# delivery/local/local.mk: (filled in by its program)
