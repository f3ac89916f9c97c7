# queue/local.mk: the queue directory rules are compiled into common/libtern.a (see common/local.mk).
