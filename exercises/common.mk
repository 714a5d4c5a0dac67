# SPDX-License-Identifier: GPL-2.0
#
# exercises/common.mk - included by every lesson's Makefile, which sets
# PROG (the program's name: PROG.bpf.c is yours, solution/PROG.bpf.c the
# solution).
#
#   make              build build/PROG.bpf.o from your PROG.bpf.c
#   make check        build it, load it in a lab of its own, PASS or FAIL + a hint
#   make check SOLUTION=1   the same with the solution
#   make clean
#
# Needs root (network namespaces, BPF) and the project's packages
# (../../scripts/tcaccel deps).
#
# The pieces the lessons share are headers in ../common/ (lesson.h,
# rewrite.h, counters.h): `#include "lesson.h"` finds them through -I.

CLANG   ?= clang
OUT     ?= build
SOLUTION ?=

# common/ next to this file, whichever lesson includes it.
EX_COMMON := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))common)

ifneq ($(filter 1 yes true,$(SOLUTION)),)
SRC := solution/$(PROG).bpf.c
OBJ := $(OUT)/solution/$(PROG).bpf.o
else
SRC := $(PROG).bpf.c
OBJ := $(OUT)/$(PROG).bpf.o
endif

# The project's flags: warnings are errors.  Debian puts asm/ under the
# multiarch directory, which -target bpf does not search.
MULTIARCH := $(shell $(CLANG) -print-multiarch 2>/dev/null || gcc -print-multiarch 2>/dev/null)
BPF_CFLAGS ?= -g -O2 -target bpf -Wall -Wextra -Werror \
	$(if $(MULTIARCH),-idirafter /usr/include/$(MULTIARCH))

.DELETE_ON_ERROR:
.PHONY: all check clean

all: $(OBJ)

$(OBJ): $(SRC) $(wildcard $(EX_COMMON)/*.h)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -I$(EX_COMMON) -c $< -o $@

check: $(OBJ)
	@./check $(OBJ)

clean:
	rm -rf $(OUT)
