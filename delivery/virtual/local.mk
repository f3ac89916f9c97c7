# delivery/virtual/local.mk: (filled in by its program)
