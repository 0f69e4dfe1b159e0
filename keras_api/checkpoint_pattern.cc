#include "keras_api/checkpoint_pattern.h"

#include <cctype>
#include <charconv>
#include <cmath>

#include "core/errors.h"

namespace horn::keras {
namespace {

constexpr int kMaxWidth = 64, kMaxPrecision = 30;  // file names, not reports

bool is_identifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

// Digits at s[*i...], at most `max`; advances *i. -1 when there are none.
int parse_number(const std::string& s, size_t* i, int max, const std::string& bad) {
  size_t j = *i;
  int v = 0;
  while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) {
    v = v * 10 + (s[j] - '0');
    if (v > max) fail(bad, ": at most ", max, " allowed");
    ++j;
  }
  if (j == *i) return -1;
  *i = j;
  return v;
}

std::string shortest(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace

CheckpointPattern::CheckpointPattern(const std::string& pattern) : text_(pattern) {
  std::string literal;
  for (size_t i = 0; i < pattern.size();) {
    const char c = pattern[i];
    if (c == '}') {
      if (i + 1 < pattern.size() && pattern[i + 1] == '}') {
        literal += '}';
        i += 2;
        continue;
      }
      fail("ModelCheckpoint: filepath '", pattern, "': a single '}' at position ", i,
           "; write '}}' for a brace");
    }
    if (c != '{') {
      literal += c;
      ++i;
      continue;
    }
    if (i + 1 < pattern.size() && pattern[i + 1] == '{') {
      literal += '{';
      i += 2;
      continue;
    }
    const size_t close = pattern.find('}', i);
    if (close == std::string::npos)
      fail("ModelCheckpoint: filepath '", pattern, "': the '{' at position ", i, " is never closed");
    const std::string inside = pattern.substr(i + 1, close - i - 1);
    const size_t colon = inside.find(':');
    const std::string name = inside.substr(0, colon);
    if (!is_identifier(name))
      fail("ModelCheckpoint: filepath '", pattern, "': '{", inside,
           "}' must name a value, e.g. {epoch:02d} or ", "{val_loss:.2f}");
    if (!literal.empty()) pieces_.push_back({.literal = std::move(literal)});
    literal.clear();
    pieces_.push_back(
        {.field = name,
         .spec = colon == std::string::npos ? Spec{} : parse_spec(name, inside.substr(colon + 1))});
    i = close + 1;
  }
  if (!literal.empty()) pieces_.push_back({.literal = std::move(literal)});
}

CheckpointPattern::Spec CheckpointPattern::parse_spec(const std::string& field,
                                                      const std::string& spec) const {
  const std::string bad =
      str_cat("ModelCheckpoint: filepath '", text_, "': the format '", spec, "' of {", field, "}");
  Spec s;
  size_t i = 0;
  if (i < spec.size() && spec[i] == '+') s.plus = true, ++i;
  if (i < spec.size() && spec[i] == '0') s.zero_pad = true, ++i;
  s.width = std::max(0, parse_number(spec, &i, kMaxWidth, bad + " has too wide a width"));
  if (i < spec.size() && spec[i] == '.') {
    ++i;
    s.precision = parse_number(spec, &i, kMaxPrecision, bad + " has too large a precision");
    if (s.precision < 0) fail(bad, " has a '.' without a precision");
  }
  if (i < spec.size()) {
    const std::string types = "dfFeEgG";
    if (types.find(spec[i]) == std::string::npos)
      fail(bad, " is not supported: only numeric formats [+][0][width][.precision][type] with type one of ",
           "d f F e E g G");
    s.type = spec[i++];
  }
  if (i != spec.size())
    fail(bad, " is not supported: only numeric formats [+][0][width][.precision][type] with type one of ",
         "d f F e E g G");
  if (s.type == 'd' && s.precision >= 0) fail(bad, ": 'd' takes no precision");
  if (s.type == 'd' && field != "epoch")
    fail(bad, ": 'd' formats integers, and only {epoch} is one; use e.g. {", field, ":.4f}");
  return s;
}

std::vector<std::string> CheckpointPattern::log_names() const {
  std::vector<std::string> names;
  for (const Piece& p : pieces_)
    if (!p.field.empty() && p.field != "epoch") names.push_back(p.field);
  return names;
}

std::string CheckpointPattern::format(int epoch, const std::map<std::string, double>& logs) const {
  std::string out;
  for (const Piece& p : pieces_) {
    if (p.field.empty()) {
      out += p.literal;
      continue;
    }
    double value = epoch;
    if (p.field != "epoch") {
      auto it = logs.find(p.field);
      if (it == logs.end()) fail("ModelCheckpoint: '{", p.field, "}' in '", text_, "' is not in the logs");
      value = it->second;
    }
    const Spec& s = p.spec;
    std::string digits;
    if (p.field == "epoch" && (s.type == 0 || s.type == 'd')) {
      digits = std::to_string(epoch);
    } else if (s.type == 0 && s.precision < 0) {
      digits = shortest(value);
    } else {
      // Python's defaults: precision 6 for f/e/g; 'g' without a type is general format.
      const char type = s.type ? s.type : 'g';
      const int precision = s.precision >= 0 ? s.precision : 6;
      const std::chars_format fmt = (type == 'f' || type == 'F')   ? std::chars_format::fixed
                                    : (type == 'e' || type == 'E') ? std::chars_format::scientific
                                                                   : std::chars_format::general;
      char buf[512];  // fixed format of the largest double: 309 digits + kMaxPrecision
      const auto r = std::to_chars(buf, buf + sizeof buf, value, fmt, precision);
      digits.assign(buf, r.ptr);
      if (type == 'E' || type == 'G' || type == 'F')
        for (char& c : digits) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (s.plus && !digits.empty() && digits[0] != '-') digits.insert(digits.begin(), '+');
    if (static_cast<int>(digits.size()) < s.width) {
      const size_t pad = s.width - digits.size();
      const bool sign = !digits.empty() && (digits[0] == '-' || digits[0] == '+');
      if (s.zero_pad && std::isfinite(value))
        digits.insert(sign ? 1 : 0, pad, '0');
      else
        digits.insert(0, pad, ' ');
    }
    out += digits;
  }
  return out;
}

}  // namespace horn::keras
