# SPDX-License-Identifier: GPL-2.0
#
# tcaccel - the Makefile is a front door: it builds the BPF objects and the
# tables generated from their headers, and hands every other job to
# scripts/tcaccel (the CLI), netns/lab (the labs) or tests/run.
# `make help` lists the targets (from the "## " comments below: a target
# without one is not listed).  V=1 shows full commands.

OUTPUT    ?= build
CLANG     ?= clang
BPFTOOL   ?= bpftool

# Make variables for the CLI and the labs (empty ones are left out).
IFACE     ?=
NETNS     ?=
MODE      ?=
FORMAT    ?=
DURATION  ?=
FORCE     ?=
FIREWALL  ?=
TOPO      ?=
CONTAINERS ?=
NODES     ?=
PODS      ?=
OVERLAY   ?=
TESTS     ?=
CGROUP    ?=
N         ?= 100000
SEED      ?=
QUICK     ?=
BENCH_OUT ?=
KEEP      ?=

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

# Every $(BPF_DIR)/NAME.bpf.c is a product: build/NAME.bpf.o (BPF_DIR: another
# source tree, e.g. a deliberately broken copy in a test).  tests/bpf/ holds
# the tests' checker programs (build/tests/NAME.bpf.o) and their headers.
BPF_DIR   ?= bpf
BPF_HDRS  := $(wildcard $(BPF_DIR)/include/*.h)
BPF_OBJS  := $(patsubst $(BPF_DIR)/%.bpf.c,$(OUTPUT)/%.bpf.o,$(wildcard $(BPF_DIR)/*.bpf.c))
# The same program without the firewall gate, for kernels without the
# conntrack kfuncs (bpf/include/conntrack.h; `load` picks it).
BPF_NOCT_OBJ := $(OUTPUT)/tcaccel-noct.bpf.o
BPF_OBJS  += $(BPF_NOCT_OBJ)
TEST_OBJS := $(patsubst tests/bpf/%.bpf.c,$(OUTPUT)/tests/%.bpf.o,$(wildcard tests/bpf/*.bpf.c))
# Reason tables, one per object with counters: NAME.reasons from the
# X-macro REASONS_MACRO in REASONS_HDR.
REASONS   := $(OUTPUT)/tcaccel.reasons $(OUTPUT)/sockmap.reasons
$(OUTPUT)/tcaccel.reasons: REASONS_HDR := reasons.h
$(OUTPUT)/tcaccel.reasons: REASONS_MACRO := TCACCEL_REASONS
$(OUTPUT)/sockmap.reasons: REASONS_HDR := sock_reasons.h
$(OUTPUT)/sockmap.reasons: REASONS_MACRO := TCACCEL_SOCK_REASONS
# The map layout for the scripts (scripts/mkabi).
ABI       := $(OUTPUT)/abi.sh $(OUTPUT)/abi.json

CLI := scripts/tcaccel
LAB := netns/lab
opt = $(if $(2),$(1) $(2))
yes = $(filter 1 yes true,$(1))
CLI_OPTS = $(call opt,--netns,$(NETNS)) $(call opt,--mode,$(MODE)) \
	$(call opt,--format,$(FORMAT)) $(call opt,--firewall,$(FIREWALL)) \
	$(if $(call yes,$(FORCE)),--force)

.DELETE_ON_ERROR:
.PHONY: all help load unload status trace watch doctor deps lab lab-down demo \
	test test-objs lint fuzz clean sockmap-load sockmap-unload sockmap-status \
	demo-sockmap bench install uninstall man deb

all: $(BPF_OBJS) $(REASONS) $(ABI) ## build the BPF objects and the tables the scripts read

$(OUTPUT)/%.bpf.o: $(BPF_DIR)/%.bpf.c $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(BPF_EXTRA) -c $< -o $@

$(BPF_NOCT_OBJ): $(BPF_DIR)/tcaccel.bpf.c $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(BPF_EXTRA) -DTCACCEL_NO_CONNTRACK -c $< -o $@

$(OUTPUT)/tests/%.bpf.o: tests/bpf/%.bpf.c $(wildcard tests/bpf/*.h)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# "index<TAB>name<TAB>description" for every X() entry of REASONS_MACRO,
# straight from the X-macro the program is compiled from (the C
# preprocessor expands it; awk splits the entries).
$(OUTPUT)/%.reasons: bpf/include/reasons.h bpf/include/sock_reasons.h Makefile
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)printf '#include "$(REASONS_HDR)"\n#define R(n, d) @@R n d\n@@BEGIN\n$(REASONS_MACRO)(R)\n' | \
		$(CLANG) -E -P -Ibpf/include -x c - | sed '1,/^@@BEGIN/d' | \
		awk 'BEGIN { RS = "@@R" } NF { sub(/^[ \t\n]+/, ""); name = $$1; \
			sub(/^[^ \t]+[ \t]+"/, ""); sub(/"[ \t\n]*$$/, ""); \
			printf "%d\t%s\t%s\n", n++, name, $$0 }' > $@

$(ABI) &: bpf/include/maps.h bpf/include/reasons.h scripts/mkabi
	$(call msg,GEN,$(ABI))
	$(Q)mkdir -p $(OUTPUT)
	$(Q)scripts/mkabi --cc $(CLANG) --sh $(OUTPUT)/abi.sh --json $(OUTPUT)/abi.json

test-objs: $(TEST_OBJS)

help: ## this list
	@echo 'tcaccel - tc/eBPF FIB fast path.  make TARGET [VAR=value ...]'
	@echo
	@awk -F':.*## ' '/^[a-z][a-z-]*:.*## / { printf "  make %-16s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo
	@echo 'Variables: IFACE NETNS MODE FIREWALL FORCE FORMAT DURATION (load/status/trace),'
	@echo '  TOPO CONTAINERS NODES PODS OVERLAY KEEP (lab/demo), TESTS (test), N SEED (fuzz),'
	@echo '  QUICK BENCH_OUT (bench), LINTIAN=0 (deb), KERNELS FILTER PARALLEL (vmtest),'
	@echo '  CGROUP (sockmap), PREFIX DESTDIR SYSCONFDIR (install), V=1 (full commands).'
	@echo 'Every CLI target has --help: scripts/tcaccel COMMAND --help, netns/lab --help.'

load: all ## IFACE=dev|all [NETNS=ns] [MODE=..] [FIREWALL=..]: attach and enable the fast path
	$(Q)$(CLI) load $(IFACE) $(CLI_OPTS)

unload: ## IFACE=dev|all [NETNS=ns]: detach it (safe to run twice)
	$(Q)$(CLI) unload $(IFACE) $(CLI_OPTS)

status: ## [IFACE=dev] [NETNS=ns] [FORMAT=table|json|prom]: counters by reason
	$(Q)$(CLI) status $(IFACE) $(CLI_OPTS)

trace: ## IFACE=dev [NETNS=ns] [DURATION=s]: stream the decisions from trace_pipe
	$(Q)$(CLI) trace $(IFACE) $(CLI_OPTS) $(call opt,--duration,$(DURATION))

watch: all ## [NETNS=ns]: keep the fast path in step with qdisc/filter/link/xfrm changes
	$(Q)$(CLI) watch $(CLI_OPTS)

doctor: ## check kernel features, mounts, tools and sysctls
	$(Q)$(CLI) doctor

deps: ## install the Debian packages tcaccel needs (apt; idempotent)
	$(Q)$(CLI) deps

lab: ## [TOPO=router|node|docker|cluster] [CONTAINERS=N] [NODES=2 PODS=2 OVERLAY=vxlan|none]: a lab in network namespaces
	$(Q)$(LAB) up $(call opt,--topo,$(TOPO)) $(call opt,--containers,$(CONTAINERS)) \
		$(call opt,--nodes,$(NODES)) $(call opt,--pods,$(PODS)) $(call opt,--overlay,$(OVERLAY))

lab-down: ## [TOPO=..]: remove the lab
	$(Q)$(LAB) down $(call opt,--topo,$(TOPO))

demo: all ## [TOPO=router|node|docker|cluster] [OVERLAY=..] [KEEP=1]: kernel path vs fast path on a lab, with a report
	$(Q)$(if $(NODES),NODES=$(NODES)) $(if $(PODS),PODS=$(PODS)) scripts/demo $(call opt,--topo,$(TOPO)) \
		$(call opt,--overlay,$(OVERLAY)) $(if $(call yes,$(KEEP)),--keep)

test: all test-objs ## [TESTS=tests/NN-x.bats]: lint + the bats suite, in private namespaces
	$(Q)tests/run $(TESTS)

lint: $(ABI) ## shellcheck every script, pyflakes the tests' Python
	$(Q)scripts/lint

fuzz: all ## [N=100000] [SEED=s]: mutated frames through the program, checked against a model
	$(Q)tests/fuzz -n $(N) $(call opt,--seed,$(SEED))

bench: all test-objs ## [QUICK=1] [BENCH_OUT=dir]: ratios vs the direct wire and the kernel (not a test)
	$(Q)scripts/bench $(if $(call yes,$(QUICK)),--quick) $(call opt,--out,$(BENCH_OUT))

clean: ## remove build/
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)

# --- sockmap: socket-level fast path for local TCP (scripts/lib/sockmap.sh) ----

SOCK_OPTS = $(call opt,--cgroup,$(CGROUP)) $(call opt,--format,$(FORMAT))

sockmap-load: all ## [CGROUP=path]: socket-level fast path for local TCP
	$(Q)$(CLI) sockmap load $(SOCK_OPTS)

sockmap-unload: ## [CGROUP=path]: undo sockmap-load
	$(Q)$(CLI) sockmap unload $(SOCK_OPTS)

sockmap-status: ## [FORMAT=json]: sockets, cgroups, counters
	$(Q)$(CLI) sockmap status $(SOCK_OPTS)

demo-sockmap: all ## local TCP with and without sockmap
	$(Q)scripts/demo-sockmap

# --- install: PREFIX and DESTDIR as packagers expect ---------------------------
#
#   $(SBINDIR)/tcaccel            -> ../lib/tcaccel/tcaccel (relative symlink)
#   $(PKGLIBDIR)/                 the CLI, lib/*.sh, lib/jq/*.jq, the objects and tables
#   $(UNITDIR)/tcaccel@.service   one instance per interface, config in $(CONFDIR)/
#   $(UNITDIR)/tcaccel-watch@.service   its watcher (tcaccel watch)
#   $(MANDIR)/man8/tcaccel.8      generated from the CLI's option table (scripts/mkman)
#   $(BASHCOMPDIR)/tcaccel        bash completion
#   $(PKGDOCDIR)/                 README, docs, tcaccel.conf.example
#
# The installed CLI finds its libs next to itself (it resolves the symlink)
# and its objects in $(PKGLIBDIR): install rewrites $TCACCEL_ROOT/build, the
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
DOCS        := $(wildcard docs/*.md)
RUNBOOKS    := $(wildcard docs/runbooks/*.md)
# Build products the CLI uses ($TCACCEL_ROOT/build/NAME in the tree): all of
# them (tests/56-install.bats checks every one the CLI names).
INSTALL_LIBFILES := $(BPF_OBJS) $(REASONS) $(ABI)

INSTALL_SED := sed -e 's|\$$TCACCEL_ROOT/build|$(PKGLIBDIR)|g' \
	-e 's|\$${TCACCEL_ROOT}/build|$(PKGLIBDIR)|g' \
	-e 's|TCACCEL_CONFDIR:=/etc/tcaccel|TCACCEL_CONFDIR:=$(CONFDIR)|'

man: $(OUTPUT)/tcaccel.8 ## build/tcaccel.8 from the CLI's option table (man -l build/tcaccel.8)

$(OUTPUT)/tcaccel.8: $(CLI) $(wildcard scripts/lib/*.sh) $(REASONS) $(ABI) README.md scripts/mkman
	$(call msg,MAN,$@)
	$(Q)scripts/mkman --reasons $(OUTPUT)/tcaccel.reasons -o $@

install: all ## CLI, objects, tcaccel@.service, man page, completion (PREFIX, DESTDIR)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX) (config $(DESTDIR)$(CONFDIR)))
	$(Q)install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(PKGLIBDIR)/lib/jq $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(PKGDOCDIR)/runbooks \
		$(DESTDIR)$(CONFDIR)
	$(Q)$(INSTALL_SED) $(CLI) > $(DESTDIR)$(PKGLIBDIR)/tcaccel
	$(Q)chmod 755 $(DESTDIR)$(PKGLIBDIR)/tcaccel
	$(Q)for f in scripts/lib/*.sh scripts/lib/jq/*.jq; do \
		$(INSTALL_SED) "$$f" > $(DESTDIR)$(PKGLIBDIR)/$${f#scripts/} && \
		chmod 644 $(DESTDIR)$(PKGLIBDIR)/$${f#scripts/} || exit 1; done
	$(Q)install -m 644 $(INSTALL_LIBFILES) $(DESTDIR)$(PKGLIBDIR)/
	$(Q)ln -sfr $(DESTDIR)$(PKGLIBDIR)/tcaccel $(DESTDIR)$(SBINDIR)/tcaccel
	$(Q)for u in tcaccel@ tcaccel-watch@; do \
		sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@CONFDIR@|$(CONFDIR)|g' systemd/$$u.service.in \
			> $(DESTDIR)$(UNITDIR)/$$u.service && chmod 644 $(DESTDIR)$(UNITDIR)/$$u.service || exit 1; done
	$(Q)TCACCEL_OBJ=$(PKGLIBDIR)/tcaccel.bpf.o TCACCEL_SOCK_OBJ=$(PKGLIBDIR)/sockmap.bpf.o \
		TCACCEL_CONFDIR=$(CONFDIR) \
		scripts/mkman --reasons $(OUTPUT)/tcaccel.reasons -o $(DESTDIR)$(MANDIR)/man8/tcaccel.8
	$(Q)install -m 644 scripts/completion/tcaccel.bash $(DESTDIR)$(BASHCOMPDIR)/tcaccel
	$(Q)install -m 644 README.md systemd/tcaccel.conf.example $(DESTDIR)$(PKGDOCDIR)/
	$(Q)$(if $(DOCS),install -m 644 $(DOCS) $(DESTDIR)$(PKGDOCDIR)/,:)
	$(Q)$(if $(RUNBOOKS),install -m 644 $(RUNBOOKS) $(DESTDIR)$(PKGDOCDIR)/runbooks/,:)

# Your own $(CONFDIR)/*.conf files stay (the directory goes when empty).
uninstall: ## remove what install put there (your /etc/tcaccel/*.conf stay)
	$(call msg,REMOVE,$(DESTDIR)$(PREFIX) (tcaccel files))
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/tcaccel $(DESTDIR)$(UNITDIR)/tcaccel@.service \
		$(DESTDIR)$(UNITDIR)/tcaccel-watch@.service \
		$(DESTDIR)$(MANDIR)/man8/tcaccel.8 $(DESTDIR)$(BASHCOMPDIR)/tcaccel
	$(Q)rm -rf $(DESTDIR)$(PKGLIBDIR) $(DESTDIR)$(PKGDOCDIR)
	$(Q)if [ -d $(DESTDIR)$(CONFDIR) ]; then rmdir --ignore-fail-on-non-empty $(DESTDIR)$(CONFDIR); fi
	$(Q)if [ -d $(DESTDIR)$(CONFDIR) ]; then echo "  kept $(DESTDIR)$(CONFDIR): $$(ls $(DESTDIR)$(CONFDIR))"; fi

# --- vmtest: the suite inside Debian's own kernels, under qemu ----------------
# scripts/vmtest --help.  KERNELS: series (6.1 6.12) or package names;
# TESTS: bats files (default: the core set).  Kernels are cached in
# /var/cache/tcaccel/vmtest (TCACCEL_VMTEST_CACHE), never in the checkout.
# PARALLEL=1 boots the kernels at once (the CPUs shared out).
KERNELS ?=
FILTER  ?=
PARALLEL ?=
.PHONY: vmtest
vmtest: all ## [KERNELS="6.1 6.12"] [TESTS=..] [FILTER=re] [PARALLEL=1]: bats files inside Debian kernels (qemu)
	$(Q)scripts/vmtest $(if $(KERNELS),--kernels "$(KERNELS)") $(if $(FILTER),--filter "$(FILTER)") \
		$(if $(call yes,$(PARALLEL)),--parallel) $(TESTS)

# --- deb: the Debian package ---------------------------------------------------
# scripts/mkdeb builds it in build/deb/ with dpkg-buildpackage; debian/rules
# calls `make` and `make install PREFIX=/usr` there.  The version is
# scripts/version's (VERSION, plus the commit in a git checkout).

LINTIAN   ?=

deb: ## [LINTIAN=0]: build/tcaccel_<version>_<arch>.deb (debian/, dpkg-buildpackage, lintian)
	$(Q)scripts/mkdeb --out $(OUTPUT) $(if $(filter 0 no false,$(LINTIAN)),--no-lintian)
