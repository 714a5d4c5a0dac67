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

all: $(BPF_OBJ) $(REASONS)

$(BPF_OBJ): $(BPF_SRC) $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(BPF_EXTRA) -c $< -o $@

# "index<TAB>name<TAB>description" for every reason, straight from the
# X-macro the program is compiled from.
$(REASONS): bpf/include/reasons.h Makefile
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)printf '#include "reasons.h"\n#define R(n, d) @@R n d\n@@BEGIN\nTCACCEL_REASONS(R)\n' | \
		$(CLANG) -E -P -Ibpf/include -x c - | sed '1,/^@@BEGIN/d' | \
		awk 'BEGIN { RS = "@@R" } NF { sub(/^[ \t\n]+/, ""); name = $$1; \
			sub(/^[^ \t]+[ \t]+"/, ""); sub(/"[ \t\n]*$$/, ""); \
			printf "%d\t%s\t%s\n", n++, name, $$0 }' > $@

help:
	@echo 'tcaccel - tc/eBPF FIB fast path'
	@echo
	@echo 'Build and check:'
	@echo '  make [all]              build $(BPF_OBJ) (V=1 for full commands)'
	@echo '  make deps               install the Debian packages tcaccel needs'
	@echo '  make doctor             check kernel features, mounts and tools'
	@echo '  make test [TESTS=file]  lint + the bats suite, inside private namespaces'
	@echo '  make lint               shellcheck every script'
	@echo
	@echo 'Use (root):'
	@echo '  make load IFACE=dev|all [NETNS=ns] [MODE=auto|redirect|peer|neigh]'
	@echo '            [FIREWALL=respect|bypass|refuse]'
	@echo '  make unload IFACE=dev [NETNS=ns]'
	@echo '  make status [IFACE=dev] [NETNS=ns] [FORMAT=table|json]'
	@echo '  make trace IFACE=dev [NETNS=ns] [DURATION=s]'
	@echo
	@echo 'Lab:'
	@echo '  make lab [TOPO=router|node] [CONTAINERS=N]   make lab-down'
	@echo '  make demo [TOPO=node] [KEEP=1]  kernel path vs fast path on a lab, report'
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

# reasons_table HEADER MACRO: "index<TAB>name<TAB>description" for every X()
# entry of MACRO in HEADER (the same generator as $(REASONS) above).
define reasons_table
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)printf '#include "$(1)"\n#define R(n, d) @@R n d\n@@BEGIN\n$(2)(R)\n' | \
		$(CLANG) -E -P -Ibpf/include -x c - | sed '1,/^@@BEGIN/d' | \
		awk 'BEGIN { RS = "@@R" } NF { sub(/^[ \t\n]+/, ""); name = $$1; \
			sub(/^[^ \t]+[ \t]+"/, ""); sub(/"[ \t\n]*$$/, ""); \
			printf "%d\t%s\t%s\n", n++, name, $$0 }' > $@
endef

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
