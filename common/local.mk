# common/local.mk: the library of what is not about mail (common/libtern.a): memory, buffers,
# base64, logging, configuration, tables, IPC, privileges, work done as another user (runas),
# safe files, the server skeleton, the worker pool, network lists and the resolver; and its
# unit tests.
noinst_LIBRARIES += common/libtern.a
common_libtern_a_SOURCES = \
	common/mem.c common/mem.h \
	common/buf.c common/buf.h \
	common/base64.c common/base64.h \
	common/clock.c common/clock.h \
	common/pwcache.c common/pwcache.h \
	common/log.c common/log.h \
	common/config.c common/config.h common/config_impl.h common/params.def \
	common/config_admin.c common/config_admin.h \
	common/errtext.c common/errtext.h \
	common/master_conf.c common/master_conf.h \
	common/ipc.c common/ipc_io.c common/ipc_evbuffer.c common/ipc.h common/ipc_proto.h \
	common/priv.c common/priv.h \
	common/runas.c common/runas.h \
	common/safefile.c common/safefile.h \
	common/dict.c common/dict_db.c common/dict_text.c common/dict.h common/dict_impl.h \
	common/server.c common/server.h common/master_proto.h \
	common/workpool.c common/workpool.h \
	common/tls_summary.c common/tls_summary.h \
	common/netmatch.c common/netmatch.h \
	common/dns.c common/dns.h common/dns_impl.h common/dns_mx.c common/dns_route.c \
	common/dict_unix.c \
	common/lists.c common/lists.h

# unit tests (tests/unit/test_NAME.c, linked with the default LDADD of tests/local.mk)
COMMON_UNIT_TESTS = tests/unit/test_buf tests/unit/test_config tests/unit/test_master_conf \
	tests/unit/test_ipc tests/unit/test_dict tests/unit/test_safefile tests/unit/test_log \
	tests/unit/test_priv tests/unit/test_mem tests/unit/test_server tests/unit/test_workpool \
	tests/unit/test_netmatch tests/unit/test_dict_walk tests/unit/test_errtext tests/unit/test_runas
check_PROGRAMS += $(COMMON_UNIT_TESTS)
TESTS += $(COMMON_UNIT_TESTS)

# the resolver's tests: unit tests of its pure parts (dns_mx.c), and dnsq, which the integration
# tests (tests/integration/test_dns.py, with the DNS server of dnsserver.py) run against libtern
check_PROGRAMS += tests/unit/test_dns tests/dnsq
TESTS += tests/unit/test_dns
tests_dnsq_SOURCES = tests/dnsq.c
tests_dnsq_LDADD = $(TERN_LIBS)
EXTRA_DIST += tests/integration/dnsserver.py tests/integration/test_dns.py
