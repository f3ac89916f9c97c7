# delivery/bounce/local.mk: (filled in by its program)
