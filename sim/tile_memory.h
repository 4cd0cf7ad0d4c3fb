// The tiles' memories: one byte array of bytesPerTile per tile, allocated zeroed on first
// write so that an idle tile costs no host RAM (engine internals; DESIGN.md section 4).
#pragma once
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

namespace ipusim {

class TileMemories {
 public:
  // Frees every tile's memory and sets up `tiles` empty tiles of `bytesPerTile` bytes.
  void reset(uint32_t tiles, uint32_t bytesPerTile);

  // The tile's memory, allocating it zeroed if this is its first touch. Distinct tiles
  // may be touched from distinct threads at once.
  uint8_t* touch(uint32_t tile);
  // The tile's memory, or nullptr when it has never been touched (reads as zeros).
  const uint8_t* find(uint32_t tile) const { return tiles_[tile].get(); }

  // Copies bytes out of a tile; an untouched tile reads as zeros. The caller checks bounds.
  void read(uint32_t tile, uint32_t offset, uint8_t* destination, size_t bytes) const;
  void write(uint32_t tile, uint32_t offset, const uint8_t* source, size_t bytes);

  uint32_t bytesPerTile() const { return bytesPerTile_; }
  uint32_t tileCount() const { return static_cast<uint32_t>(tiles_.size()); }
  uint32_t touchedTiles() const;

 private:
  struct FreeDeleter {
    void operator()(uint8_t* memory) const { std::free(memory); }
  };
  std::vector<std::unique_ptr<uint8_t, FreeDeleter>> tiles_;
  uint32_t bytesPerTile_ = 0;
};

}  // namespace ipusim
