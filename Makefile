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
	$(call opt,--format,$(FORMAT)) $(if $(filter 1 yes true,$(FORCE)),--force)

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
	@echo '  make fuzz [N=100000] [SEED=s]  mutated frames through the program, checked'
	@echo
	@echo 'Use (root):'
	@echo '  make load IFACE=dev [NETNS=ns] [MODE=redirect] [FORCE=1]'
	@echo '  make unload IFACE=dev [NETNS=ns]'
	@echo '  make status [IFACE=dev] [NETNS=ns] [FORMAT=table|json]'
	@echo '  make trace IFACE=dev [NETNS=ns] [DURATION=s]'
	@echo
	@echo 'Lab:'
	@echo '  make lab [TOPO=router|node] [CONTAINERS=N]   make lab-down'
	@echo '  make demo               build, lab, kernel path vs fast path, report'

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
	$(Q)scripts/demo

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
