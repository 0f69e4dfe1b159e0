// ThreadSanitizer suppressions, used by `bazel test --config=tsan` (built into every test).
//
// Debian's libtbb (and libdnnl, below) is not built with -fsanitize=thread, so TSan sees no
// synchronisation inside it. Horn states the hand-offs it makes through oneTBB (core/tsan_handoff.h: a
// task starts after its spawn, a wait returns after its tasks), which covers every access
// in Horn's own code. What remains are accesses made by oneTBB's own code to its own task
// and arena objects: those are suppressed, and only when such an access is the top frame of
// a report (race_top), so a race in Horn's code running inside a oneTBB task still shows.
#if defined(__SANITIZE_THREAD__)
extern "C" const char* __tsan_default_suppressions() {
  return "race_top:oneapi/tbb/\n"       // oneTBB's header code (task, arena, partitioner objects)
         "race_top:tbb::detail::\n"     // the same, when the file is not known
         "race_top:libtbb.so\n"         // oneTBB's library code
         // oneTBB bookkeeping that calls no user code, on objects its allocator recycles
         // (std::atomic frames on top):
         "race:tbb::detail::d1::fold_tree\n"
         // horn::HandOff writing its own fields into task storage that oneTBB's allocator
         // recycled from a task of another thread (TSan never saw that memory freed):
         "race_top:core/tsan_handoff.h\n"
         "called_from_lib:libtbb.so\n"  // memset, memcpy, ... that libtbb calls on its own memory
         // Debian's oneDNN is not instrumented either. Its primitives share implementation
         // objects through oneDNN's global primitive cache, under oneDNN's own locks and
         // reference counts, so a thread's cached product (ops/onednn_gemm.cc) freed when
         // the thread exits looks like a race with the thread that created the shared object.
         // Horn calls oneDNN on one thread per product (each call's operands are Horn's,
         // handed off through core/tsan_handoff.h), so these reports are oneDNN's own memory:
         "race:libdnnl.so\n"
         "called_from_lib:libdnnl.so\n";
}
#endif
