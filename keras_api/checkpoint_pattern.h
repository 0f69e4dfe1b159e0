// ModelCheckpoint's file path pattern, parsed once, at construction: literal text with
// Python str.format fields as Keras writes them, limited to what makes sense in a file name:
//   {name}             the value: epoch as an integer, a log value in shortest round-trip form
//   {name:spec}        spec = [+][0][width][.precision][type], type one of d f F e E g G
//   {{ and }}          literal braces
// e.g. "weights.{epoch:02d}-{val_loss:.2f}.horn". Names are identifiers; "epoch" is the
// 1-based epoch, every other name a log ("loss", "val_accuracy", ...). Anything else (a
// conversion "!r", a fill or alignment, a string type "s", 'd' for a log value, a stray
// brace) is refused with an Error naming the pattern. Formatting never goes through printf.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace horn::keras {

class CheckpointPattern {
 public:
  explicit CheckpointPattern(const std::string& pattern);
  const std::string& text() const { return text_; }
  // The log names the pattern uses (every field but "epoch").
  std::vector<std::string> log_names() const;
  // Throws when a log named in the pattern is missing from `logs`.
  std::string format(int epoch_1based, const std::map<std::string, double>& logs) const;

 private:
  struct Spec {
    bool plus = false, zero_pad = false;
    int width = 0, precision = -1;  // -1: none given
    char type = 0;                  // 0: none given
  };
  struct Piece {
    std::string literal;  // when `field` is empty
    std::string field;
    Spec spec;
  };
  Spec parse_spec(const std::string& field, const std::string& spec) const;
  std::string text_;
  std::vector<Piece> pieces_;
};

}  // namespace horn::keras
