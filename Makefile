# infuse - a terminal workbench for teaching a small language model a domain.
#
#   make            build ./infuse
#   make run        install missing system packages, build, open the workbench
#   make test       install missing system packages, build, run all tests
#   make debug      build ./infuse-debug with address and UB sanitizers
#   make test-asan  run all tests built with the sanitizers
#   make clean      remove build products
#   make corpus     the base model's pretraining corpus from Debian's
#                   dictionaries, into build/corpus/ (CORPUS_MAX=N keeps N)
#
# src/ is the engine and app core (libinfuse.a, never includes curses);
# ui/ holds the program's entry and its panes; tests/test_*.c are each a
# test program linked against libinfuse.a.

CC      ?= cc
ARCH    ?= -march=native
OPT     ?= -O2
PKGS    := ncursesw yaml-0.1 libcjson openblas
WARN    := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wvla -Wno-format-truncation
CFLAGS  := $(XCFLAGS) -std=c11 -D_GNU_SOURCE -g $(OPT) $(ARCH) $(WARN) -Isrc -pthread \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  := $(XCFLAGS) $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lunistring -lm -pthread

SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

B       ?= build
SRC     := $(wildcard src/*.c)
UI      := $(wildcard ui/*.c)
TESTS   := $(wildcard tests/test_*.c)
# tests/test_*.sh drive the real program (tmux); installed beside the others
TESTSH  := $(wildcard tests/test_*.sh)
LIB     := $(B)/libinfuse.a
LIBOBJ  := $(SRC:src/%.c=$(B)/src/%.o)
UIOBJ   := $(UI:ui/%.c=$(B)/ui/%.o)
TESTBIN := $(TESTS:tests/%.c=$(B)/tests/%) $(TESTSH:tests/%.sh=$(B)/tests/%)

.PHONY: all run test debug test-asan clean deps bench fixtures base-model corpus example ui-latency
all: infuse

deps:
	@scripts/deps.sh

# Renamed into place, so a running ./infuse (a long training run) keeps its file.
infuse: $(B)/infuse
	cp $< $@.tmp && mv -f $@.tmp $@

$(B)/infuse: $(UIOBJ) $(LIB)
	$(CC) $(CFLAGS) -o $@ $(UIOBJ) $(LIB) $(LDLIBS)

$(LIB): $(LIBOBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/src/%.o: src/%.c $(wildcard src/*.h) | $(B)/src
	$(CC) $(CFLAGS) -c -o $@ $<
$(B)/ui/%.o: ui/%.c $(wildcard src/*.h ui/*.h) | $(B)/ui
	$(CC) $(CFLAGS) -Iui -c -o $@ $<
$(B)/tests/%: tests/%.c tests/test.h $(LIB) | $(B)/tests
	$(CC) $(CFLAGS) -Itests -o $@ $< $(LIB) $(LDLIBS)

$(B)/tests/%: tests/%.sh | $(B)/tests
	cp $< $@ && chmod +x $@

$(B)/src $(B)/ui $(B)/tests:
	mkdir -p $@

# The workbench on the bundled example (infuse.yaml): Review, Train, Bench
# and Chat over models/base, adapters/ and data/.
run: deps
	$(MAKE) all
	./infuse

test: deps
	$(MAKE) all $(TESTBIN)
	tests/run.sh $(B)/tests

debug:
	$(MAKE) B=build/asan OPT=-O1 XCFLAGS="$(SAN)" build/asan/infuse
	cp build/asan/infuse infuse-debug

test-asan:
	$(MAKE) B=build/asan OPT=-O1 XCFLAGS="$(SAN)" build/asan/infuse \
	    $(TESTS:tests/%.c=build/asan/tests/%) $(TESTSH:tests/%.sh=build/asan/tests/%)
	INFUSE_BIN=build/asan/infuse ASAN_OPTIONS=detect_leaks=1 tests/run.sh build/asan/tests

# Key-to-redraw latency of the workbench while training uses every core.
ui-latency:
	scripts/ui-latency.sh

# The example's adapters and benchmark from its data (needs models/base).
example:
	scripts/example.sh

# The bundled base model from Debian's dictionaries (long: see models/base/README.md).
base-model:
	scripts/base-model.sh

clean:
	rm -rf build infuse infuse-debug

# The bundled base model's pretraining data (generated, never committed):
# installs the dict-* packages (scripts/deps.sh), decompresses their
# dictzip files into build/dict/ (dictzip is gzip with an index, so gzip
# reads it) and writes build/corpus/text.txt, qa.jsonl and heldout.txt.
# Definition dictionaries come first so their answer to "What is X?" wins.
# CORPUS_MAX=N keeps N entries (0: all), chosen by CORPUS_SEED; the terms
# in data/probe_terms.txt are always kept.
DICTS       ?= foldoc jargon wn vera
DICTD       ?= /usr/share/dictd
CORPUS_MAX  ?= 20000
CORPUS_SEED ?= 0
corpus: deps
	scripts/deps.sh $(DICTS:%=dict-%)
	$(MAKE) all
	mkdir -p $(B)/dict
	for d in $(DICTS); do \
	    cp $(DICTD)/$$d.index $(B)/dict/ && gzip -dc $(DICTD)/$$d.dict.dz > $(B)/dict/$$d.dict || exit 1; \
	done
	./infuse corpus-build --dict $(DICTS:%=$(B)/dict/%.index) -o $(B)/corpus \
	    --max-entries $(CORPUS_MAX) --seed $(CORPUS_SEED) --keep data/probe_terms.txt
