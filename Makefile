# SPDX-License-Identifier: GPL-2.0
#
# tcaccel - the Makefile is a front door: it builds the BPF object and hands
# every other job to scripts/tcaccel (the CLI) or netns/lab (the lab).
# `make help` lists the targets.  V=1 shows full commands.

OUTPUT    ?= build
CLANG     ?= clang
BPFTOOL   ?= bpftool

# Make variables for the CLI (empty ones are left out).
IFACE     ?=
NETNS     ?=
MODE      ?=
FORMAT    ?=
DURATION  ?=
FORCE     ?=
FIREWALL  ?=
TOPO      ?=
CONTAINERS ?=
TESTS     ?=

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif
MAKEFLAGS += --no-print-directory

# Debian puts asm/ under the multiarch dir, which -target bpf does not search.
MULTIARCH := $(shell $(CLANG) -print-multiarch 2>/dev/null || gcc -print-multiarch 2>/dev/null)
BPF_CFLAGS ?= -g -O2 -target bpf -Wall -Wextra -Werror \
	$(if $(MULTIARCH),-idirafter /usr/include/$(MULTIARCH))
# Extra -D/-I flags on top (e.g. BPF_EXTRA=-DTCACCEL_MAX_IFACES=512).
BPF_EXTRA ?=

BPF_SRC  := bpf/tcaccel.bpf.c
BPF_HDRS := $(wildcard bpf/include/*.h)
BPF_OBJ  := $(OUTPUT)/tcaccel.bpf.o
# The same program without the firewall gate, for kernels without the
# conntrack kfuncs (bpf/include/conntrack.h; `load` picks it).
BPF_NOCT_OBJ := $(OUTPUT)/tcaccel-noct.bpf.o
REASONS  := $(OUTPUT)/tcaccel.reasons

CLI := scripts/tcaccel
LAB := netns/lab
opt = $(if $(2),$(1) $(2))
CLI_OPTS = $(call opt,--netns,$(NETNS)) $(call opt,--mode,$(MODE)) \
	$(call opt,--format,$(FORMAT)) $(call opt,--firewall,$(FIREWALL)) \
	$(if $(filter 1 yes true,$(FORCE)),--force)

.DELETE_ON_ERROR:
.PHONY: all help load unload status trace doctor deps lab lab-down demo \
	test lint clean

all: $(BPF_OBJ) $(BPF_NOCT_OBJ) $(REASONS)

$(BPF_OBJ): $(BPF_SRC) $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(BPF_EXTRA) -c $< -o $@

$(BPF_NOCT_OBJ): $(BPF_SRC) $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(BPF_EXTRA) -DTCACCEL_NO_CONNTRACK -c $< -o $@

# reasons_table HEADER MACRO: "index<TAB>name<TAB>description" for every X()
# entry of MACRO in HEADER, straight from the X-macro the program is compiled
# from (the C preprocessor expands it; awk splits the entries).
define reasons_table
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)printf '#include "$(1)"\n#define R(n, d) @@R n d\n@@BEGIN\n$(2)(R)\n' | \
		$(CLANG) -E -P -Ibpf/include -x c - | sed '1,/^@@BEGIN/d' | \
		awk 'BEGIN { RS = "@@R" } NF { sub(/^[ \t\n]+/, ""); name = $$1; \
			sub(/^[^ \t]+[ \t]+"/, ""); sub(/"[ \t\n]*$$/, ""); \
			printf "%d\t%s\t%s\n", n++, name, $$0 }' > $@
endef

$(REASONS): bpf/include/reasons.h Makefile
	$(call reasons_table,reasons.h,TCACCEL_REASONS)

help:
	@echo 'tcaccel - tc/eBPF FIB fast path'
	@echo
	@echo 'Build and check:'
	@echo '  make [all]              build $(BPF_OBJ) (V=1 for full commands)'
	@echo '  make deps               install the Debian packages tcaccel needs'
	@echo '  make doctor             check kernel features, mounts and tools'
	@echo '  make test [TESTS=file]  lint + the bats suite, inside private namespaces'
	@echo '  make lint               shellcheck every script'
	@echo '  make fuzz [N=100000] [SEED=s]  mutated frames through the program, checked'
	@echo
	@echo 'Use (root):'
	@echo '  make load IFACE=dev|all [NETNS=ns] [MODE=auto|redirect|peer|neigh]'
	@echo '            [FIREWALL=respect|bypass|refuse]'
	@echo '  make unload IFACE=dev [NETNS=ns]'
	@echo '  make status [IFACE=dev] [NETNS=ns] [FORMAT=table|json|prom]'
	@echo '  make trace IFACE=dev [NETNS=ns] [DURATION=s]'
	@echo
	@echo 'Install (root; PREFIX=/usr/local, DESTDIR, SYSCONFDIR=/etc):'
	@echo '  make install            CLI, object, tcaccel@.service, man page, completion'
	@echo '  make uninstall          removes them (your /etc/tcaccel/*.conf stay)'
	@echo '  make man                build/tcaccel.8 from --help (man -l build/tcaccel.8)'
	@echo
	@echo 'Lab:'
	@echo '  make lab [TOPO=router|node|docker] [CONTAINERS=N]   make lab-down'
	@echo '  make demo [TOPO=node|docker] [KEEP=1]  kernel path vs fast path on a lab, report'
	@echo '  make bench [QUICK=1] [BENCH_OUT=dir]  ratios vs the direct wire and the kernel'
	@echo
	@echo 'Socket acceleration (sockmap, local TCP):'
	@echo '  make sockmap-load [CGROUP=path]   make sockmap-unload [CGROUP=path]'
	@echo '  make sockmap-status [FORMAT=json] make demo-sockmap'

load: all
	$(Q)$(CLI) load $(IFACE) $(CLI_OPTS)

unload:
	$(Q)$(CLI) unload $(IFACE) $(CLI_OPTS)

status:
	$(Q)$(CLI) status $(IFACE) $(CLI_OPTS)

trace:
	$(Q)$(CLI) trace $(IFACE) $(CLI_OPTS) $(call opt,--duration,$(DURATION))

doctor:
	$(Q)$(CLI) doctor

deps:
	$(Q)$(CLI) deps

lab:
	$(Q)$(LAB) up $(call opt,--topo,$(TOPO)) $(call opt,--containers,$(CONTAINERS))

lab-down:
	$(Q)$(LAB) down $(call opt,--topo,$(TOPO))

demo: all
	$(Q)scripts/demo $(call opt,--topo,$(TOPO)) $(if $(filter 1 yes true,$(KEEP)),--keep)

test: all
	$(Q)tests/run $(TESTS)

lint:
	$(Q)scripts/lint

# --- reliability: the fuzzer (tests/fuzz --help) ------------------------------
# N mutated frames through the program in the kernel, checked against a
# reference model; violations become reproducers in tests/corpus/.
N         ?= 100000
SEED      ?=
.PHONY: fuzz
fuzz: all
	$(Q)tests/fuzz -n $(N) $(call opt,--seed,$(SEED))

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)

# --- sockmap: socket-level fast path for local TCP ----------------------------
# A second, separate BPF object (SEC("sockops") + SEC("sk_msg")), loaded with
# bpftool by `scripts/tcaccel sockmap` (scripts/lib/sockmap.sh).

CGROUP       ?=
SOCK_SRC     := bpf/sockmap.bpf.c
SOCK_OBJ     := $(OUTPUT)/sockmap.bpf.o
SOCK_REASONS := $(OUTPUT)/sockmap.reasons
SOCK_OPTS     = $(call opt,--cgroup,$(CGROUP)) $(call opt,--format,$(FORMAT))


all: $(SOCK_OBJ) $(SOCK_REASONS)

$(SOCK_OBJ): $(SOCK_SRC) $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(BPF_EXTRA) -c $< -o $@

$(SOCK_REASONS): bpf/include/sock_reasons.h Makefile
	$(call reasons_table,sock_reasons.h,TCACCEL_SOCK_REASONS)

.PHONY: sockmap-load sockmap-unload sockmap-status demo-sockmap
sockmap-load: all
	$(Q)$(CLI) sockmap load $(SOCK_OPTS)

sockmap-unload:
	$(Q)$(CLI) sockmap unload $(SOCK_OPTS)

sockmap-status:
	$(Q)$(CLI) sockmap status $(SOCK_OPTS)

demo-sockmap: all
	$(Q)scripts/demo-sockmap

# --- install: PREFIX and DESTDIR as packagers expect ---------------------------
#
#   $(SBINDIR)/tcaccel            -> ../lib/tcaccel/tcaccel (relative symlink)
#   $(PKGLIBDIR)/                 the CLI, lib/*.sh, tcaccel.bpf.o, tcaccel.reasons
#   $(UNITDIR)/tcaccel@.service   one instance per interface, config in $(CONFDIR)/
#   $(MANDIR)/man8/tcaccel.8      generated from --help (scripts/mkman)
#   $(BASHCOMPDIR)/tcaccel        bash completion
#   $(PKGDOCDIR)/                 README, runbooks, tcaccel.conf.example
#
# The installed CLI finds its libs next to itself (it resolves the symlink)
# and its object in $(PKGLIBDIR): install rewrites $TCACCEL_ROOT/build, the
# in-tree location, to $(PKGLIBDIR) in the copies it installs.

PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
LIBDIR      ?= $(PREFIX)/lib
MANDIR      ?= $(PREFIX)/share/man
DOCROOT     ?= $(PREFIX)/share/doc
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR  ?= /etc
PKGLIBDIR   := $(LIBDIR)/tcaccel
PKGDOCDIR   := $(DOCROOT)/tcaccel
CONFDIR     := $(SYSCONFDIR)/tcaccel
RUNBOOKS    := $(wildcard docs/runbooks/*.md)
# Build products the CLI uses ($TCACCEL_ROOT/build/NAME in the tree): add
# yours here (tests/50-install.bats checks every one the CLI names).
INSTALL_LIBFILES := $(BPF_OBJ) $(BPF_NOCT_OBJ) $(REASONS) $(SOCK_OBJ) $(SOCK_REASONS)

INSTALL_SED := sed -e 's|\$$TCACCEL_ROOT/build|$(PKGLIBDIR)|g' \
	-e 's|\$${TCACCEL_ROOT}/build|$(PKGLIBDIR)|g' \
	-e 's|TCACCEL_CONFDIR:=/etc/tcaccel|TCACCEL_CONFDIR:=$(CONFDIR)|'

.PHONY: install uninstall man

man: $(OUTPUT)/tcaccel.8

$(OUTPUT)/tcaccel.8: $(CLI) $(wildcard scripts/lib/*.sh) $(REASONS) README.md scripts/mkman
	$(call msg,MAN,$@)
	$(Q)scripts/mkman --reasons $(REASONS) -o $@

install: all
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX) (config $(DESTDIR)$(CONFDIR)))
	$(Q)install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(PKGLIBDIR)/lib $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(PKGDOCDIR)/runbooks \
		$(DESTDIR)$(CONFDIR)
	$(Q)$(INSTALL_SED) $(CLI) > $(DESTDIR)$(PKGLIBDIR)/tcaccel
	$(Q)chmod 755 $(DESTDIR)$(PKGLIBDIR)/tcaccel
	$(Q)for f in scripts/lib/*.sh; do \
		$(INSTALL_SED) "$$f" > $(DESTDIR)$(PKGLIBDIR)/lib/$${f##*/} && \
		chmod 644 $(DESTDIR)$(PKGLIBDIR)/lib/$${f##*/} || exit 1; done
	$(Q)install -m 644 $(INSTALL_LIBFILES) $(DESTDIR)$(PKGLIBDIR)/
	$(Q)ln -sfr $(DESTDIR)$(PKGLIBDIR)/tcaccel $(DESTDIR)$(SBINDIR)/tcaccel
	$(Q)sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@CONFDIR@|$(CONFDIR)|g' systemd/tcaccel@.service.in \
		> $(DESTDIR)$(UNITDIR)/tcaccel@.service
	$(Q)chmod 644 $(DESTDIR)$(UNITDIR)/tcaccel@.service
	$(Q)TCACCEL_OBJ=$(PKGLIBDIR)/tcaccel.bpf.o TCACCEL_SOCK_OBJ=$(PKGLIBDIR)/sockmap.bpf.o \
		TCACCEL_CONFDIR=$(CONFDIR) \
		scripts/mkman --reasons $(REASONS) -o $(DESTDIR)$(MANDIR)/man8/tcaccel.8
	$(Q)install -m 644 scripts/completion/tcaccel.bash $(DESTDIR)$(BASHCOMPDIR)/tcaccel
	$(Q)install -m 644 README.md systemd/tcaccel.conf.example $(DESTDIR)$(PKGDOCDIR)/
	$(Q)$(if $(RUNBOOKS),install -m 644 $(RUNBOOKS) $(DESTDIR)$(PKGDOCDIR)/runbooks/,:)

# Your own $(CONFDIR)/*.conf files stay (the directory goes when empty).
uninstall:
	$(call msg,REMOVE,$(DESTDIR)$(PREFIX) (tcaccel files))
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/tcaccel $(DESTDIR)$(UNITDIR)/tcaccel@.service \
		$(DESTDIR)$(MANDIR)/man8/tcaccel.8 $(DESTDIR)$(BASHCOMPDIR)/tcaccel
	$(Q)rm -rf $(DESTDIR)$(PKGLIBDIR) $(DESTDIR)$(PKGDOCDIR)
	$(Q)if [ -d $(DESTDIR)$(CONFDIR) ]; then rmdir --ignore-fail-on-non-empty $(DESTDIR)$(CONFDIR); fi
	$(Q)if [ -d $(DESTDIR)$(CONFDIR) ]; then echo "  kept $(DESTDIR)$(CONFDIR): $$(ls $(DESTDIR)$(CONFDIR))"; fi

# --- bench: the fast path side by side with the direct wire and the kernel ------
# Not part of `make test` (benchmarks are not tests); tests/70-bench.bats only
# checks that QUICK=1 writes a well-formed result.  Runs in private namespaces.

QUICK     ?=
BENCH_OUT ?=

.PHONY: bench
bench: all
	$(Q)scripts/bench $(if $(filter 1 yes true,$(QUICK)),--quick) $(call opt,--out,$(BENCH_OUT))
