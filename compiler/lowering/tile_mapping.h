// How tensors are spread over tiles and a tile's work over worker contexts (poplibs'
// mapTensorLinearly and per-worker splitting, simplified).
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "sim/dtype.h"
#include "sim/target.h"

namespace ipusim {

// Elements [first, first + count) of a variable on `tile`.
struct TileSpan {
  uint32_t tile = 0;
  uint64_t first = 0;
  uint64_t count = 0;
};

// Grain: the elements one vector instruction handles (lanes of the target's vector unit
// for floats, one word's worth for integers), so no worker splits a vector.
uint64_t vectorGrain(DType dtype, const Target& target);

// Spreads `elements` over tiles from tile 0 in whole grains, with at least
// kMinBytesPerTile per tile so tiny tensors do not pay exchange on hundreds of tiles.
std::vector<TileSpan> linearMapping(uint64_t elements, DType dtype, const Target& target);

// Splits one tile's span into at most workerContexts chunks of whole grains.
std::vector<TileSpan> splitForWorkers(const TileSpan& span, DType dtype, const Target& target);

// Cuts a tile's spans, in order, into consecutive shares of `share` elements (the last may be
// shorter); a share may take pieces of several spans, one piece each. Calls f(pieces) per
// share. Span is any type with `first` and `count` (TileSpan, Slice); a piece is a copy of
// its span with those two narrowed.
template <class Span, class F>
void forEachShare(const std::vector<Span>& spans, uint64_t share, F f) {
  std::vector<Span> pieces;
  uint64_t filled = 0;
  for (Span span : spans) {
    while (span.count > 0) {
      Span piece = span;
      piece.count = span.count < share - filled ? span.count : share - filled;
      pieces.push_back(piece);
      span.first += piece.count;
      span.count -= piece.count;
      filled += piece.count;
      if (filled == share) {
        f(std::move(pieces));
        pieces.clear();
        filled = 0;
      }
    }
  }
  if (!pieces.empty()) f(std::move(pieces));
}

inline constexpr uint64_t kMinBytesPerTile = 128;

}  // namespace ipusim
