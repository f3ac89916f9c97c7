# etc/local.mk: what `make install` puts in place besides the programs and man pages: the
# configuration in $(sysconfdir)/tern (tern.conf and master.conf only when missing, so an edited
# one is kept; an aliases sample for `tern setup`), the systemd unit, the logrotate file, and
# mailq and newaliases as links to sendmail in $(sbindir). Files that name installed paths are
# made from their .in templates at build time, with the directories of this build.
terndir = $(sysconfdir)/tern
dist_tern_DATA = etc/aliases.sample
# systemd's unit directory: ./configure --with-systemdsystemunitdir=DIR (or make's variable)
systemdsystemunit_DATA = etc/tern.service
logrotatedir = $(sysconfdir)/logrotate.d
logrotate_DATA = etc/logrotate.d/tern
noinst_DATA = etc/tern.conf
TERN_CONF_FILES = tern.conf master.conf
EXTRA_DIST += etc/tern.conf.in etc/master.conf etc/tern.service.in etc/logrotate.d/tern.in \
	tests/integration/test_install.py
CLEANFILES += etc/tern.conf etc/tern.service etc/logrotate.d/tern


edit_paths = sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@localstatedir[@]|$(localstatedir)|g' -e 's|@pkglibexecdir[@]|$(pkglibexecdir)|g' \
	-e 's|@systemdsystemunitdir[@]|$(systemdsystemunitdir)|g'
edit_file = $(AM_V_GEN)$(MKDIR_P) $(@D) && rm -f $@ $@.tmp && \
	$(edit_paths) $(srcdir)/$@.in >$@.tmp && mv $@.tmp $@
etc/tern.conf: $(srcdir)/etc/tern.conf.in Makefile
	$(edit_file)
etc/tern.service: $(srcdir)/etc/tern.service.in Makefile
	$(edit_file)
etc/logrotate.d/tern: $(srcdir)/etc/logrotate.d/tern.in Makefile
	$(edit_file)

# tern.conf and master.conf: installed only where there are none yet; `make uninstall` removes
# them only when they are still the samples of this build.
install-data-hook:
	@$(MKDIR_P) '$(DESTDIR)$(terndir)'
	@for f in $(TERN_CONF_FILES); do \
	  src=etc/$$f; test -f $$src || src=$(srcdir)/etc/$$f; \
	  if test -f '$(DESTDIR)$(terndir)'/$$f; then \
	    echo "make install: keeping $(DESTDIR)$(terndir)/$$f (the new sample is $$src)"; \
	  else \
	    echo " $(INSTALL_DATA) $$src '$(DESTDIR)$(terndir)/$$f'"; \
	    $(INSTALL_DATA) $$src '$(DESTDIR)$(terndir)'/$$f || exit 1; \
	  fi; \
	done

# mailq and newaliases are sendmail by another name (it looks at its argv[0])
install-exec-hook:
	cd '$(DESTDIR)$(sbindir)' && for l in mailq newaliases; do \
	  rm -f $$l && ln -s sendmail $$l || exit 1; done

uninstall-hook:
	@for f in $(TERN_CONF_FILES); do \
	  src=etc/$$f; test -f $$src || src=$(srcdir)/etc/$$f; \
	  if cmp -s $$src '$(DESTDIR)$(terndir)'/$$f; then \
	    echo " rm -f '$(DESTDIR)$(terndir)/$$f'"; rm -f '$(DESTDIR)$(terndir)'/$$f; \
	  elif test -f '$(DESTDIR)$(terndir)'/$$f; then \
	    echo "make uninstall: keeping $(DESTDIR)$(terndir)/$$f (changed since the install)"; \
	  fi; \
	done
	rm -f '$(DESTDIR)$(sbindir)/mailq' '$(DESTDIR)$(sbindir)/newaliases'

# `make print-install-dirs`: where `make install` puts things, as name=value lines (for the
# README's table and tests/integration/test_install.py)
print-install-dirs:
	@echo sbindir=$(sbindir); echo libexecdir=$(libexecdir); \
	echo pkglibexecdir=$(pkglibexecdir); \
	echo sysconfdir=$(sysconfdir); echo localstatedir=$(localstatedir); \
	echo mandir=$(mandir); echo systemdsystemunitdir=$(systemdsystemunitdir); \
	echo logrotatedir=$(logrotatedir); echo terndir=$(terndir)
.PHONY: print-install-dirs
