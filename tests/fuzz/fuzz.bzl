"""fuzz_target: one libFuzzer target, and its committed corpus replayed as a test.

fuzz_target(name = "x_fuzz", deps = [...]) declares, from x_fuzz.cc and corpus/x_fuzz/*:
  :x_fuzz              under --config=fuzz (clang-14, see .bazelrc) a libFuzzer binary; in
                       other builds (g++, plain or asan) a program that replays the files it
                       is given (replay_main.cc);
  :x_fuzz_corpus_test  the same program run once over every file of the corpus, so plain and
                       asan test runs check each seed and each crash ever added to the corpus;
  :x_fuzz_corpus       the corpus files, for other tests.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_test")

def _driver(name, deps):
    return dict(
        srcs = [name + ".cc"],
        linkopts = select({
            ":libfuzzer": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        deps = deps + select({
            ":libfuzzer": [],
            "//conditions:default": [":replay_main"],
        }),
    )

def fuzz_target(name, deps):
    cc_binary(name = name, **_driver(name, deps))
    corpus = native.glob(["corpus/%s/*" % name])
    native.filegroup(name = name + "_corpus", srcs = corpus, visibility = ["//tests:__pkg__"])
    cc_test(
        name = name + "_corpus_test",
        size = "small",
        args = ["$(location %s)" % f for f in corpus],
        data = corpus,
        **_driver(name, deps)
    )
