# postern: see README.  Build settings come from the conf- files, one value each.
CC_CMD  := $(shell head -n 1 conf-cc)
LD_CMD  := $(shell head -n 1 conf-ld)
LIBS    :=
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# Each directory src/postern-NAME (and src/sendmail etc.) is one program; src/lib is shared;
# src/install holds the install manifest (read by ./install).
PROGDIRS := $(filter-out src/lib src/install src/tls,$(wildcard src/*))
PROGS    := $(notdir $(PROGDIRS))
LIBSRC   := $(wildcard src/lib/*.c)

B ?= build
CCFLAGS ?= $(CC_CMD)
LDFLAGS_ ?= $(LD_CMD)

.PHONY: all asan units test demo demo-stop bench fuzz clean musl-check
# Object files stay between builds (they are intermediates of a pattern chain).
.SECONDARY:
all: $(addprefix $(B)/bin/,$(PROGS))

asan:
	$(MAKE) B=build-asan STATIC= STATIC_GLIBC= CCFLAGS="$(CC_CMD) -U_FORTIFY_SOURCE $(SAN)" LDFLAGS_="$(LD_CMD) $(SAN)" all units

# The conf- files are prerequisites: changing one rebuilds what it shapes.
$(B)/obj/%.o: src/%.c $(wildcard src/lib/*.h) $(wildcard src/*/*.h) conf-cc
	@mkdir -p $(dir $@)
	$(CCFLAGS) -Isrc/lib -c -o $@ $<

# The conf- files become constants, so every program agrees on the names.
$(B)/obj/auto_conf.c: conf-home conf-users conf-groups
	@mkdir -p $(dir $@)
	sh src/lib/auto_conf.sh > $@.tmp && mv $@.tmp $@
$(B)/obj/auto_conf.o: $(B)/obj/auto_conf.c src/lib/conf.h
	$(CCFLAGS) -Isrc/lib -c -o $@ $<

$(B)/libpostern.a: $(patsubst src/%.c,$(B)/obj/%.o,$(LIBSRC)) $(B)/obj/auto_conf.o
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# postern-remote parses DNS answers with the C library's resolver.
EXTRA_LIBS_postern-remote := -lresolv
# The TLS engine and the key holder are BearSSL's only users (doc/tls.md).
EXTRA_LIBS_postern-tlsio := -lbearssl
EXTRA_LIBS_postern-keys := -lbearssl
# argon2id password hashes (doc/pop3.md): the checker and the admin's tool.
EXTRA_LIBS_postern-auth := -lsodium
EXTRA_LIBS_postern-passwd := -lsodium
# ... and share src/tls (PEM reading), which the musl-built src/lib cannot
# hold: it includes bearssl.h.
TLSSRC := $(wildcard src/tls/*.c)
$(B)/bin/postern-tlsio $(B)/bin/postern-keys $(B)/bin/postern-dkim $(B)/bin/postern-dkimkey: $(patsubst src/%.c,$(B)/obj/%.o,$(TLSSRC))
# DKIM (doc/dkim.md): the key holder signs with BearSSL (RSA) and libsodium
# (Ed25519), as does the admin's key maker; the signer only hashes.
EXTRA_LIBS_postern-dkim := -lbearssl -lsodium
EXTRA_LIBS_postern-dkimkey := -lbearssl -lsodium
EXTRA_LIBS_postern-dkimsign := -lbearssl
# ... and the verifier checks both kinds of signature (doc/dkim.md, "Verifying").
EXTRA_LIBS_postern-dkimverify := -lbearssl -lsodium

# The programs exec'ed once per connection or per message are linked as static
# PIEs: no dynamic loader at each exec (doc/performance.md measures it); so is
# postern-listen, whose posix_spawn of each postern-smtpd is then a clone of a
# small image (step 12); so are postern-popup and postern-pop3d, one per POP3
# connection and per login.  None of them looks up users or hosts, which a static
# C library cannot do the system's way.  The price: a C library fix reaches them only when postern is
# rebuilt.  The sanitizer build links everything dynamically (STATIC=).
STATIC ?= postern-smtpd postern-queue postern-local postern-listen postern-popup postern-pop3d
# postern-dkimverify, one per port-25 message with control/dkimverify, is a
# static PIE against glibc and Debian's libbearssl.a and libsodium.a, which
# are built for glibc, not musl: its exec costs half what the dynamic one
# did (doc/dkim.md, "Cost").
STATIC_GLIBC ?= postern-dkimverify
STATIC_LIBS_postern-dkimverify := -l:libbearssl.a -l:libsodium.a

# ... and against musl when conf-musl names one: glibc's start-up costs these
# programs about a quarter of their CPU (doc/performance.md, "musl").
# "debian": Debian's musl-dev for this machine; "none": glibc; otherwise a
# directory with musl's own install layout (lib/libc.a, include/).
MUSL_CONF := $(shell head -n 1 conf-musl)
MUSL_TRIPLET := $(subst -gnu,-musl,$(shell $(firstword $(CC_CMD)) -dumpmachine))
MUSL_LIB := $(if $(filter debian,$(MUSL_CONF)),/usr/lib/$(MUSL_TRIPLET),$(if $(filter-out none,$(MUSL_CONF)),$(MUSL_CONF)/lib))
MUSL_INC := $(if $(filter debian,$(MUSL_CONF)),/usr/include/$(MUSL_TRIPLET),$(if $(filter-out none,$(MUSL_CONF)),$(MUSL_CONF)/include))
MUSL_PROGS := $(if $(MUSL_LIB),$(STATIC))
GCC_FILE = $(shell $(firstword $(CC_CMD)) -print-file-name=$(1))
# musl has no _FORTIFY_SOURCE; SECURITY says what stands in for it.
MUSL_CC = $(filter-out -D_FORTIFY_SOURCE%,$(CCFLAGS)) -U_FORTIFY_SOURCE -nostdinc -isystem $(MUSL_INC) -isystem $(call GCC_FILE,include)
MUSL_LINK = -static-pie -nostdlib $(MUSL_LIB)/rcrt1.o $(MUSL_LIB)/crti.o $(call GCC_FILE,crtbeginS.o) \
	$(filter %.o,$^) $(B)/musl/libpostern.a -L$(MUSL_LIB) -lc $(call GCC_FILE,libgcc.a) $(call GCC_FILE,crtendS.o) $(MUSL_LIB)/crtn.o

musl-check:
	@test -f $(MUSL_LIB)/libc.a -a -d $(MUSL_INC) || { echo "conf-musl: no musl C library at $(MUSL_LIB) and $(MUSL_INC): install Debian's musl-dev (tests/deps.sh does), or write none into conf-musl" >&2; exit 1; }
$(B)/musl/obj/%.o: src/%.c $(wildcard src/lib/*.h) $(wildcard src/*/*.h) conf-cc conf-musl | musl-check
	@mkdir -p $(dir $@)
	$(MUSL_CC) -Isrc/lib -c -o $@ $<
$(B)/musl/obj/auto_conf.o: $(B)/obj/auto_conf.c src/lib/conf.h | musl-check
	@mkdir -p $(dir $@)
	$(MUSL_CC) -Isrc/lib -c -o $@ $<
$(B)/musl/libpostern.a: $(patsubst src/%.c,$(B)/musl/obj/%.o,$(LIBSRC)) $(B)/musl/obj/auto_conf.o
	rm -f $@ && ar rcs $@ $^

# pc: a '%' that make does not replace with the stem before the second expansion.
pc := %
.SECONDEXPANSION:
# A program's objects and library: $(B)/musl/ for the musl ones, $(B)/ for the rest.
tree = $(B)$(if $(filter $(1),$(MUSL_PROGS)),/musl)
$(B)/bin/%: $$(patsubst src/$$(pc).c,$$(call tree,$$*)/obj/$$(pc).o,$$(wildcard src/$$*/*.c)) $$(call tree,$$*)/libpostern.a conf-ld conf-musl
	@mkdir -p $(dir $@)
	$(if $(filter $*,$(MUSL_PROGS)),$(LDFLAGS_) $(MUSL_LINK) -o $@,$(LDFLAGS_) $(if $(filter $*,$(STATIC) $(STATIC_GLIBC)),-static-pie) -o $@ $(filter %.o,$^) $(B)/libpostern.a $(LIBS) $(if $(filter $*,$(STATIC_GLIBC)),$(STATIC_LIBS_$*),$(EXTRA_LIBS_$*)))

# Unit tests: tests/unit/NAME.c, each its own binary, linked with the library.
UNITS := $(basename $(notdir $(wildcard tests/unit/*.c)))
$(B)/units/%: tests/unit/%.c tests/unit/check.h $(B)/libpostern.a
	@mkdir -p $(dir $@)
	$(CCFLAGS) -Isrc/lib -Isrc -Itests/unit -o $@ $< $(B)/libpostern.a $(LIBS) $(filter -fsanitize%,$(LDFLAGS_))
units: $(addprefix $(B)/units/,$(UNITS))

test:
	sh tests/deps.sh
	$(MAKE) -j$$(nproc) all
	$(MAKE) -j$$(nproc) asan
	sh tests/run.sh

demo:
	sh tests/deps.sh demo
	$(MAKE) -j$$(nproc) all
	sh tests/demo.sh

demo-stop:
	sh tests/demo.sh stop

bench:
	sh tests/deps.sh bench
	$(MAKE) -j$$(nproc) all
	sh tests/bench/run.sh
	sh tests/bench/remote.sh
	/usr/bin/python3 tests/bench/pop3login.py
	/usr/bin/python3 tests/bench/dkimverify.py

fuzz:
	sh tests/deps.sh
	sh tests/fuzz.sh long

clean:
	rm -rf build build-asan build-fuzz
