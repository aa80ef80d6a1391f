# postern: see README.  Build settings come from the conf- files, one value each.
CC_CMD  := $(shell head -n 1 conf-cc)
LD_CMD  := $(shell head -n 1 conf-ld)
LIBS    := -lsodium
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# Each directory src/postern-NAME (and src/sendmail etc.) is one program; src/lib is shared;
# src/install holds the install manifest (read by ./install).
PROGDIRS := $(filter-out src/lib src/install,$(wildcard src/*))
PROGS    := $(notdir $(PROGDIRS))
LIBSRC   := $(wildcard src/lib/*.c)

B ?= build
CCFLAGS ?= $(CC_CMD)
LDFLAGS_ ?= $(LD_CMD)

.PHONY: all asan units test demo demo-stop bench fuzz clean
# Object files stay between builds (they are intermediates of a pattern chain).
.SECONDARY:
all: $(addprefix $(B)/bin/,$(PROGS))

asan:
	$(MAKE) B=build-asan STATIC= CCFLAGS="$(CC_CMD) -U_FORTIFY_SOURCE $(SAN)" LDFLAGS_="$(LD_CMD) $(SAN)" all units

$(B)/obj/%.o: src/%.c $(wildcard src/lib/*.h) $(wildcard src/*/*.h)
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

# The programs exec'ed once per connection or per message are linked as static
# PIEs: no dynamic loader at each exec (doc/performance.md measures it).  None
# of them looks up users or hosts, which a static glibc cannot do safely.  The
# price: a libc or libsodium fix reaches them only when postern is rebuilt.
# The sanitizer build links everything dynamically (STATIC=).
STATIC ?= postern-smtpd postern-queue postern-local

# pc: a '%' that make does not replace with the stem before the second expansion.
pc := %
.SECONDEXPANSION:
$(B)/bin/%: $$(patsubst src/$$(pc).c,$(B)/obj/$$(pc).o,$$(wildcard src/$$*/*.c)) $(B)/libpostern.a
	@mkdir -p $(dir $@)
	$(LDFLAGS_) $(if $(filter $*,$(STATIC)),-static-pie) -o $@ $(filter %.o,$^) $(B)/libpostern.a $(LIBS) $(EXTRA_LIBS_$*)

# Unit tests: tests/unit/NAME.c, each its own binary, linked with the library.
UNITS := $(basename $(notdir $(wildcard tests/unit/*.c)))
$(B)/units/%: tests/unit/%.c tests/unit/check.h $(B)/libpostern.a
	@mkdir -p $(dir $@)
	$(CCFLAGS) -Isrc/lib -Isrc -Itests/unit -o $@ $< $(B)/libpostern.a $(LIBS) $(filter -fsanitize%,$(LDFLAGS_))
units: $(addprefix $(B)/units/,$(UNITS))

test:
	sh tests/deps.sh
	$(MAKE) all
	$(MAKE) asan
	sh tests/run.sh

demo:
	sh tests/deps.sh demo
	$(MAKE) all
	sh tests/demo.sh

demo-stop:
	sh tests/demo.sh stop

bench:
	sh tests/deps.sh bench
	$(MAKE) all
	sh tests/bench/run.sh
	sh tests/bench/remote.sh

fuzz:
	sh tests/deps.sh
	sh tests/fuzz.sh long

clean:
	rm -rf build build-asan build-fuzz
