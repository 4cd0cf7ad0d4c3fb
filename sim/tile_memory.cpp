#include "sim/tile_memory.h"

#include <cstring>
#include <new>

namespace ipusim {

void TileMemories::reset(uint32_t tiles, uint32_t bytesPerTile) {
  tiles_.clear();
  tiles_.shrink_to_fit();
  tiles_.resize(tiles);
  bytesPerTile_ = bytesPerTile;
}

uint8_t* TileMemories::touch(uint32_t tile) {
  auto& memory = tiles_[tile];
  if (!memory) {
    // calloc: large blocks come from the OS already zeroed, untouched pages cost nothing.
    auto* block = static_cast<uint8_t*>(std::calloc(bytesPerTile_, 1));
    if (block == nullptr) throw std::bad_alloc();
    memory.reset(block);
  }
  return memory.get();
}

void TileMemories::read(uint32_t tile, uint32_t offset, uint8_t* destination,
                        size_t bytes) const {
  if (bytes == 0) return;
  const uint8_t* memory = find(tile);
  if (memory == nullptr) {
    std::memset(destination, 0, bytes);
  } else {
    std::memcpy(destination, memory + offset, bytes);
  }
}

void TileMemories::write(uint32_t tile, uint32_t offset, const uint8_t* source, size_t bytes) {
  if (bytes == 0) return;
  std::memcpy(touch(tile) + offset, source, bytes);
}

uint32_t TileMemories::touchedTiles() const {
  uint32_t count = 0;
  for (const auto& memory : tiles_) count += memory ? 1 : 0;
  return count;
}

}  // namespace ipusim
