# docs/local.mk: the architecture notes and the conventions. The man pages are in docs/ too, but
# each is listed in the local.mk of the folder whose program it describes.
EXTRA_DIST += docs/ARCHITECTURE.md
