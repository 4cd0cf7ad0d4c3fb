// RNN, GRU and LSTM (forward, reverse, bidirectional; layout 0 and 1; sequence_lens,
// initial states, peepholes, clip, activations with their parameters, linear_before_reset,
// input_forget), weights resident, unrolled as a Repeat over time steps:
//  1. the input projections X W^T of every step and direction: one planned matrix product
//     (matmul_planner.h);
//  2. the hidden units of each direction are cut into blocks, one RecurrentStep vertex per
//     block (a worker), up to workerContexts blocks per tile; an exchange brings each block
//     its x-projections, its rows of R and its biases and peepholes (constants are laid out
//     at compile time), and an init phase zeroes Y and the states;
//  3. Repeat(seq): an exchange gives every tile of a direction the whole previous hidden
//     state, then every block computes its units' step (a GRU without linear_before_reset
//     takes two phases, with an exchange of r * h between them); a counter on the tile
//     picks the time step, so the body is the same every iteration;
//  4. an exchange gathers Y, Y_h and Y_c from the blocks into the outputs.
#include <algorithm>
#include <cstring>
#include <functional>
#include <optional>

#include "compiler/compiler.h"
#include "compiler/lowering/lowering_registry.h"
#include "compiler/lowering/matmul_lowering.h"
#include "compiler/lowering/opset.h"
#include "sim/codelet.h"
#include "sim/codelets/matmul_cost.h"
#include "sim/codelets/rnn_cell.h"

namespace ipusim {

namespace {

namespace rnn = codelets::rnn;

const char* const kRecurrentMapping =
    "input projections as one planned product; hidden units in blocks, one vertex per block, up to 6 per tile, "
    "state, weights and projections resident; Repeat over steps with the hidden state exchanged to the tiles";

// Tiles a direction's blocks may span (assumption, docs/cost-model.md section 11): every
// step each of them receives the whole hidden state, so more tiles shorten the step's
// compute but not its exchange, and the copies of the exchange grow with their square.
constexpr uint64_t kMaxTilesPerDirection = 64;

struct CellSpec {
  rnn::Cell cell = rnn::Cell::Rnn;
  const char* op = "RNN";
  size_t inputCount = 6;  // X, W, R, B, sequence_lens, initial_h (+ initial_c, P)
  std::vector<const char*> defaultActivations;
};

const CellSpec kRnn{rnn::Cell::Rnn, "RNN", 6, {"Tanh"}};
const CellSpec kGru{rnn::Cell::Gru, "GRU", 6, {"Sigmoid", "Tanh"}};
const CellSpec kLstm{rnn::Cell::Lstm, "LSTM", 8, {"Sigmoid", "Tanh", "Tanh"}};

enum Input : size_t { kX = 0, kW = 1, kR = 2, kB = 3, kLens = 4, kInitialH = 5, kInitialC = 6, kPeepholes = 7 };

struct Block {
  int64_t direction = 0;
  int64_t first = 0, units = 0;  // hidden units [first, first + units)
  uint32_t tile = 0;
};

// A variable with one span per block (elements `sizes[i]` on block i's tile), or per tile.
struct BlockBuffer {
  uint32_t var = 0;
  std::vector<uint64_t> base;
};

// The mapping of a block buffer (block i's `sizes[i]` elements on `tiles[i]`); sets `base`
// and returns the total element count in `total`.
std::vector<TileSpan> blockMapping(const std::vector<uint32_t>& tiles, const std::vector<uint64_t>& sizes,
                                   BlockBuffer& buffer, uint64_t& total) {
  std::vector<TileSpan> mapping;
  total = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    buffer.base.push_back(total);
    if (sizes[i] > 0) mapping.push_back({tiles[i], total, sizes[i]});
    total += sizes[i];
  }
  return mapping;
}

BlockBuffer blockBuffer(GraphBuilder& b, const std::string& name, DType dtype, const std::vector<uint32_t>& tiles,
                        const std::vector<uint64_t>& sizes) {
  BlockBuffer buffer;
  uint64_t total = 0;
  std::vector<TileSpan> mapping = blockMapping(tiles, sizes, buffer, total);
  buffer.var = b.addVariable(name, dtype, {static_cast<int64_t>(total)}, std::move(mapping));
  return buffer;
}

// A run of `count` elements of a source to element `dst` of a block buffer.
struct Run {
  uint64_t src = 0, dst = 0, count = 0;
};

// Fills a block buffer from an input: a constant's runs are copied at compile time (the
// buffer becomes a constant), a run-time input's are copies of `exchange`.
BlockBuffer placeRuns(LoweringContext& ctx, size_t input, const std::string& name, DType dtype,
                      const std::vector<uint32_t>& tiles, const std::vector<uint64_t>& sizes,
                      const std::vector<Run>& runs, uint32_t exchange) {
  GraphBuilder& b = ctx.builder();
  const ConstTensor* constant = ctx.constantInput(input);
  if (constant == nullptr) {
    BlockBuffer buffer = blockBuffer(b, name, dtype, tiles, sizes);
    const uint32_t source = ctx.input(input).var;
    for (const Run& run : runs) b.addCopy(exchange, {source, run.src, run.count}, buffer.var, run.dst);
    return buffer;
  }
  BlockBuffer buffer;
  uint64_t total = 0;
  std::vector<TileSpan> mapping = blockMapping(tiles, sizes, buffer, total);
  const size_t bytes = dtypeSize(dtype);
  ConstTensor value{dtype, {static_cast<int64_t>(total)}, std::vector<uint8_t>(total * bytes)};
  for (const Run& run : runs) {
    std::memcpy(value.bytes.data() + run.dst * bytes, constant->bytes.data() + run.src * bytes, run.count * bytes);
  }
  buffer.var = b.addConstant(name, value, std::move(mapping));
  return buffer;
}

std::vector<std::string> stringsAttribute(const LoweringContext& ctx, const std::string& name) {
  const onnx::AttributeProto* attr = ctx.attribute(name);
  if (attr == nullptr) return {};
  return {attr->strings().begin(), attr->strings().end()};
}

std::vector<float> floatsAttribute(const LoweringContext& ctx, const std::string& name) {
  const onnx::AttributeProto* attr = ctx.attribute(name);
  if (attr == nullptr) return {};
  return {attr->floats().begin(), attr->floats().end()};
}

// The activation scalars of each direction: three activations and their alpha, beta.
std::vector<std::vector<int64_t>> activationScalars(const LoweringContext& ctx, const CellSpec& spec, int64_t dirs) {
  std::vector<std::string> names = stringsAttribute(ctx, "activations");
  const size_t perDirection = spec.defaultActivations.size();
  if (names.empty()) {
    for (int64_t d = 0; d < dirs; ++d) names.insert(names.end(), spec.defaultActivations.begin(), spec.defaultActivations.end());
  }
  if (names.size() != perDirection * static_cast<size_t>(dirs)) {
    throw CompileError(ctx.where() + ": " + spec.op + " needs " + std::to_string(perDirection * dirs) +
                       " activations, not " + std::to_string(names.size()));
  }
  const std::vector<float> alphas = floatsAttribute(ctx, "activation_alpha");
  const std::vector<float> betas = floatsAttribute(ctx, "activation_beta");
  size_t nextAlpha = 0, nextBeta = 0;
  std::vector<std::vector<int64_t>> result;
  for (int64_t d = 0; d < dirs; ++d) {
    std::vector<int64_t> kinds(3, static_cast<int64_t>(rnn::Activation::Tanh)), parameters(6, scalarFromDouble(0));
    for (size_t i = 0; i < perDirection; ++i) {
      const std::string& name = names[static_cast<size_t>(d) * perDirection + i];
      const std::optional<rnn::Activation> activation = rnn::activationNamed(name);
      if (!activation) throw CompileError(ctx.where() + ": activation '" + name + "' is not supported");
      rnn::ActivationParameters p = rnn::activationParameters(*activation);
      if (p.usesAlpha && nextAlpha < alphas.size()) p.alpha = alphas[nextAlpha++];
      if (p.usesBeta && nextBeta < betas.size()) p.beta = betas[nextBeta++];
      kinds[i] = static_cast<int64_t>(*activation);
      parameters[2 * i] = scalarFromDouble(p.alpha);
      parameters[2 * i + 1] = scalarFromDouble(p.beta);
    }
    std::vector<int64_t> scalars = kinds;
    scalars.insert(scalars.end(), parameters.begin(), parameters.end());
    result.push_back(std::move(scalars));
  }
  return result;
}

void lowerRecurrent(LoweringContext& ctx, const CellSpec& spec) {
  GraphBuilder& b = ctx.builder();
  const Target& target = ctx.target();
  const TensorInfo& x = ctx.inputInfo(kX);
  const DType dtype = x.dtype;
  const bool batchFirst = ctx.intAttribute("layout", 0) != 0;
  if (x.shape.size() != 3) throw CompileError(ctx.where() + ": X must be [seq, batch, input], not " + shapeString(x.shape));
  const int64_t seq = batchFirst ? x.shape[1] : x.shape[0];
  const int64_t batch = batchFirst ? x.shape[0] : x.shape[1];
  const int64_t inputSize = x.shape[2];
  const Shape& wShape = ctx.inputInfo(kW).shape;
  const Shape& rShape = ctx.inputInfo(kR).shape;
  const int64_t G = static_cast<int64_t>(rnn::gateCount(spec.cell));
  const int64_t hidden = ctx.intAttribute("hidden_size", rShape.size() == 3 ? rShape[2] : 0);
  const onnx::AttributeProto* directionAttr = ctx.attribute("direction");
  const std::string direction = directionAttr ? directionAttr->s() : "forward";
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional") {
    throw CompileError(ctx.where() + ": direction '" + direction + "' is not forward, reverse or bidirectional");
  }
  const int64_t dirs = direction == "bidirectional" ? 2 : 1;
  if (wShape != Shape{dirs, G * hidden, inputSize} || rShape != Shape{dirs, G * hidden, hidden}) {
    throw CompileError(ctx.where() + ": W " + shapeString(wShape) + " and R " + shapeString(rShape) +
                       " do not match X " + shapeString(x.shape) + " with hidden_size " + std::to_string(hidden));
  }
  const bool outY = ctx.node().output_size() > 0 && !ctx.node().output(0).empty();
  const bool outH = ctx.node().output_size() > 1 && !ctx.node().output(1).empty();
  const bool outC = spec.cell == rnn::Cell::Lstm && ctx.node().output_size() > 2 && !ctx.node().output(2).empty();
  if (seq == 0 || batch == 0 || hidden == 0) {
    throw CompileError(ctx.where() + ": " + spec.op + " over an empty sequence, batch or hidden state is not supported");
  }
  const bool twoPhase = spec.cell == rnn::Cell::Gru && ctx.intAttribute("linear_before_reset", 0) == 0;
  const bool hasLens = ctx.hasInput(kLens);
  if (hasLens && ctx.inputInfo(kLens).dtype != DType::Int32) {
    throw CompileError(ctx.where() + ": sequence_lens must be int32");
  }
  const std::vector<std::vector<int64_t>> activations = activationScalars(ctx, spec, dirs);
  const onnx::AttributeProto* clipAttr = ctx.attribute("clip");
  const double clip = clipAttr ? static_cast<double>(clipAttr->f()) : 0.0;

  // 1. X W^T for every step and direction: [dirs][seq * batch][G * hidden].
  const DType partials = dtype == DType::Float16 ? ctx.model().matMulPartials : DType::Float32;
  MatMulProblem problem;
  problem.groups = static_cast<uint64_t>(dirs);
  problem.m = static_cast<uint64_t>(seq * batch);
  problem.k = static_cast<uint64_t>(inputSize);
  problem.n = static_cast<uint64_t>(G * hidden);
  problem.lhsType = problem.rhsType = problem.outputType = dtype;
  problem.partialsType = partials;
  problem.lhsGroups = 1;
  problem.rhsGroups = static_cast<uint64_t>(dirs);
  MatMulEmission emission;
  emission.lhs.dtype = emission.rhs.dtype = dtype;
  emission.lhs.constant = ctx.constantInput(kX);
  if (!emission.lhs.constant) emission.lhs.var = ctx.input(kX).var;
  emission.lhs.groupOffset.assign(static_cast<size_t>(dirs), 0);
  if (batchFirst) {  // row t * batch + b of X [batch][seq][input]
    for (int64_t r = 0; r < seq * batch; ++r) {
      emission.lhs.rowOffsets.push_back(static_cast<uint64_t>(((r % batch) * seq + r / batch) * inputSize));
    }
    for (int64_t i = 0; i < inputSize; ++i) emission.lhs.colOffsets.push_back(static_cast<uint64_t>(i));
  } else {
    emission.lhs.rowStride = static_cast<uint64_t>(inputSize);
    emission.lhs.colStride = 1;
  }
  const ConstTensor* wConstant = ctx.constantInput(kW);
  emission.rhs.constant = wConstant;
  if (!wConstant) emission.rhs.var = ctx.input(kW).var;
  for (int64_t d = 0; d < dirs; ++d) emission.rhs.groupOffset.push_back(static_cast<uint64_t>(d * G * hidden * inputSize));
  emission.rhs.rowStride = 1;
  emission.rhs.colStride = static_cast<uint64_t>(inputSize);
  problem.lhsConstant = emission.lhs.constant != nullptr;
  problem.rhsConstant = wConstant != nullptr;
  if (!problem.lhsConstant) problem.lhsSourceElementsPerTile = mostElementsOnATile(b.variable(emission.lhs.var));
  if (!problem.rhsConstant) problem.rhsSourceElementsPerTile = mostElementsOnATile(b.variable(emission.rhs.var));
  MatMulPlan plan;
  try {
    plan = planMatMul(problem, target, productOptions(ctx.model(), target, wConstant ? wConstant->bytes.size() : 0));
  } catch (const CompileError& e) {
    throw CompileError(ctx.where() + ": the input projections do not fit the tile memory: " + e.what());
  }
  emission.name = ctx.name() + "/input_projection";
  emission.outputName = ctx.name() + "/xw";
  emission.outputShape = {dirs * seq * batch * G * hidden};
  emission.productCodelet = ampMatMulCodeletName(dtype, partials);
  const uint32_t xw = emitMatMul(b, plan, emission);

  // 2. Blocks of hidden units, up to workerContexts per tile, each direction on its tiles.
  const uint64_t workers = std::max<uint64_t>(1, target.workerContexts);
  const uint64_t tilesPerDirection =
      std::max<uint64_t>(1, std::min<uint64_t>(kMaxTilesPerDirection, target.tiles / static_cast<uint64_t>(dirs)));
  const int64_t maxBlocks = std::min<int64_t>(hidden, static_cast<int64_t>(tilesPerDirection * workers));
  const int64_t unitsPerBlock = (hidden + maxBlocks - 1) / maxBlocks;
  const int64_t blocksPerDirection = (hidden + unitsPerBlock - 1) / unitsPerBlock;
  const int64_t tilesUsed = (blocksPerDirection + static_cast<int64_t>(workers) - 1) / static_cast<int64_t>(workers);
  std::vector<Block> blocks;
  std::vector<uint32_t> blockTiles;
  std::vector<uint32_t> tileOf;  // per tile index of a direction: its tile
  for (int64_t d = 0; d < dirs; ++d) {
    for (int64_t i = 0; i < blocksPerDirection; ++i) {
      Block block;
      block.direction = d;
      block.first = i * unitsPerBlock;
      block.units = std::min(unitsPerBlock, hidden - block.first);
      block.tile = static_cast<uint32_t>(d * tilesUsed + i / static_cast<int64_t>(workers));
      blocks.push_back(block);
      blockTiles.push_back(block.tile);
    }
  }
  std::vector<uint32_t> dirTiles;  // tile of each (direction, tile index)
  for (int64_t d = 0; d < dirs; ++d)
    for (int64_t t = 0; t < tilesUsed; ++t) dirTiles.push_back(static_cast<uint32_t>(d * tilesUsed + t));

  const std::string& name = ctx.name();
  const uint32_t init = b.addExchange(name + "/init");
  auto sizes = [&](const std::function<uint64_t(const Block&)>& size) {
    std::vector<uint64_t> result;
    for (const Block& block : blocks) result.push_back(size(block));
    return result;
  };
  const uint64_t S = static_cast<uint64_t>(seq), B = static_cast<uint64_t>(batch), H = static_cast<uint64_t>(hidden);

  // x-projections [seq][batch][G][U] from xw [dirs][seq * batch][G * hidden].
  BlockBuffer xwBlocks = blockBuffer(b, name + "/xw_blocks", dtype, blockTiles,
                                     sizes([&](const Block& k) { return S * B * G * k.units; }));
  for (size_t i = 0; i < blocks.size(); ++i) {
    const Block& k = blocks[i];
    for (uint64_t t = 0; t < S; ++t)
      for (uint64_t bb = 0; bb < B; ++bb)
        for (int64_t g = 0; g < G; ++g) {
          const uint64_t src = ((static_cast<uint64_t>(k.direction) * S + t) * B + bb) * G * H + g * H + k.first;
          const uint64_t dst = xwBlocks.base[i] + ((t * B + bb) * G + g) * k.units;
          b.addCopy(init, {xw, src, static_cast<uint64_t>(k.units)}, xwBlocks.var, dst);
        }
  }
  // R rows [G][U][H] of each block.
  std::vector<Run> runs;
  for (size_t i = 0, at = 0; i < blocks.size(); ++i) {
    const Block& k = blocks[i];
    for (int64_t g = 0; g < G; ++g) {
      runs.push_back({(static_cast<uint64_t>(k.direction * G + g) * H + k.first) * H, at, k.units * H});
      at += k.units * H;
    }
  }
  const BlockBuffer rBlocks = placeRuns(ctx, kR, name + "/r_blocks", dtype, blockTiles,
                                        sizes([&](const Block& k) { return G * k.units * H; }), runs, init);
  // Biases [2][G][U] (Wb, Rb) and peepholes [3][U].
  std::optional<BlockBuffer> biasBlocks, peepBlocks, cBlocks, lensBlocks, zBlocks, rhBlocks;
  if (ctx.hasInput(kB)) {
    runs.clear();
    for (size_t i = 0, at = 0; i < blocks.size(); ++i) {
      for (int64_t w = 0; w < 2; ++w)
        for (int64_t g = 0; g < G; ++g) {
          runs.push_back({static_cast<uint64_t>(blocks[i].direction * 2 * G * hidden + (w * G + g) * hidden + blocks[i].first),
                          at, static_cast<uint64_t>(blocks[i].units)});
          at += blocks[i].units;
        }
    }
    biasBlocks = placeRuns(ctx, kB, name + "/bias_blocks", dtype, blockTiles,
                           sizes([&](const Block& k) { return 2 * G * k.units; }), runs, init);
  }
  if (spec.cell == rnn::Cell::Lstm && ctx.hasInput(kPeepholes)) {
    runs.clear();
    for (size_t i = 0, at = 0; i < blocks.size(); ++i) {
      for (int64_t p = 0; p < 3; ++p) {
        runs.push_back({static_cast<uint64_t>((blocks[i].direction * 3 + p) * hidden + blocks[i].first), at,
                        static_cast<uint64_t>(blocks[i].units)});
        at += blocks[i].units;
      }
    }
    peepBlocks = placeRuns(ctx, kPeepholes, name + "/peephole_blocks", dtype, blockTiles,
                           sizes([&](const Block& k) { return 3 * k.units; }), runs, init);
  }
  // States [batch][U], from the initial values when given ([dirs][batch][H], or
  // [batch][dirs][H] in layout 1).
  auto stateIndex = [&](int64_t d, uint64_t bb, int64_t unit) {
    return batchFirst ? (bb * dirs + d) * H + unit : (d * B + bb) * H + unit;
  };
  auto stateBuffer = [&](const std::string& what, size_t initial) {
    BlockBuffer buffer = blockBuffer(b, name + "/" + what, dtype, blockTiles, sizes([&](const Block& k) { return B * k.units; }));
    if (ctx.hasInput(initial)) {
      const uint32_t source = ctx.input(initial).var;
      for (size_t i = 0; i < blocks.size(); ++i)
        for (uint64_t bb = 0; bb < B; ++bb)
          b.addCopy(init, {source, stateIndex(blocks[i].direction, bb, blocks[i].first), static_cast<uint64_t>(blocks[i].units)},
                    buffer.var, buffer.base[i] + bb * blocks[i].units);
    }
    return buffer;
  };
  const BlockBuffer hBlocks = stateBuffer("h", kInitialH);
  if (spec.cell == rnn::Cell::Lstm) cBlocks = stateBuffer("c", kInitialC);
  const BlockBuffer yBlocks =
      blockBuffer(b, name + "/y_blocks", dtype, blockTiles, sizes([&](const Block& k) { return S * B * k.units; }));
  const BlockBuffer counters = blockBuffer(b, name + "/step", DType::Int32, blockTiles, sizes([](const Block&) { return 1; }));
  if (hasLens) {
    lensBlocks = blockBuffer(b, name + "/lens", DType::Int32, blockTiles, sizes([&](const Block&) { return B; }));
    const uint32_t source = ctx.input(kLens).var;
    for (size_t i = 0; i < blocks.size(); ++i) b.addCopy(init, {source, 0, B}, lensBlocks->var, lensBlocks->base[i]);
  }
  if (twoPhase) {
    zBlocks = blockBuffer(b, name + "/z", dtype, blockTiles, sizes([&](const Block& k) { return B * k.units; }));
    rhBlocks = blockBuffer(b, name + "/rh", dtype, blockTiles, sizes([&](const Block& k) { return B * k.units; }));
  }
  // The whole previous hidden state (or r * h) of a direction on each of its tiles.
  const std::vector<uint64_t> fullSizes(dirTiles.size(), B * H);
  const BlockBuffer hFull = blockBuffer(b, name + "/h_full", dtype, dirTiles, fullSizes);
  std::optional<BlockBuffer> rhFull;
  if (twoPhase) rhFull = blockBuffer(b, name + "/rh_full", dtype, dirTiles, fullSizes);

  // Vertices of one phase: fields per block, `full` the tile's [batch][H] operand.
  auto phaseVertices = [&](uint32_t computeSet, rnn::Phase phase, const BlockBuffer& full) {
    for (size_t i = 0; i < blocks.size(); ++i) {
      const Block& k = blocks[i];
      const uint64_t U = static_cast<uint64_t>(k.units);
      const size_t tileIndex = static_cast<size_t>(k.tile);
      auto slice = [&](const std::optional<BlockBuffer>& buffer, uint64_t count) {
        return buffer ? std::vector<Slice>{{buffer->var, buffer->base[i], count}} : std::vector<Slice>{};
      };
      std::vector<std::vector<Slice>> fields{
          {{xwBlocks.var, xwBlocks.base[i], S * B * G * U}},
          {{full.var, full.base[tileIndex], B * H}},
          {{rBlocks.var, rBlocks.base[i], G * U * H}},
          slice(biasBlocks, 2 * G * U),
          {{hBlocks.var, hBlocks.base[i], B * U}},
          slice(cBlocks, B * U),
          slice(peepBlocks, 3 * U),
          {{yBlocks.var, yBlocks.base[i], S * B * U}},
          {{counters.var, counters.base[i], 1}},
          slice(lensBlocks, B),
          slice(zBlocks, B * U),
          slice(rhBlocks, B * U)};
      std::vector<int64_t> scalars{static_cast<int64_t>(spec.cell),
                                   static_cast<int64_t>(phase),
                                   seq,
                                   batch,
                                   hidden,
                                   k.units,
                                   (direction == "reverse" || k.direction == 1) ? 1 : 0,
                                   scalarFromDouble(clip),
                                   ctx.intAttribute("linear_before_reset", 0),
                                   ctx.intAttribute("input_forget", 0),
                                   ctx.hasInput(kInitialH) ? 1 : 0,
                                   spec.cell == rnn::Cell::Lstm && ctx.hasInput(kInitialC) ? 1 : 0};
      const std::vector<int64_t>& act = activations[static_cast<size_t>(k.direction)];
      scalars.insert(scalars.end(), act.begin(), act.end());
      b.addVertex(computeSet, rnn::codeletName(dtype), k.tile, std::move(fields), std::move(scalars));
    }
  };
  // Every block's state slice to every tile of its direction.
  auto broadcast = [&](uint32_t exchange, const BlockBuffer& source, const BlockBuffer& full) {
    for (size_t i = 0; i < blocks.size(); ++i) {
      const Block& k = blocks[i];
      for (int64_t t = 0; t < tilesUsed; ++t) {
        const size_t tileIndex = static_cast<size_t>(k.direction * tilesUsed + t);
        for (uint64_t bb = 0; bb < B; ++bb) {
          b.addCopy(exchange, {source.var, source.base[i] + bb * k.units, static_cast<uint64_t>(k.units)}, full.var,
                    full.base[tileIndex] + bb * H + k.first);
        }
      }
    }
  };

  const uint32_t initPhase = b.addComputeSet(name + "/init");
  phaseVertices(initPhase, rnn::Phase::Init, hFull);
  b.exchange(init);
  b.execute(initPhase);
  const uint32_t shareH = b.addExchange(name + "/share_h");
  broadcast(shareH, hBlocks, hFull);
  b.repeat(static_cast<uint64_t>(seq), [&] {
    b.exchange(shareH);
    if (twoPhase) {
      const uint32_t gates = b.addComputeSet(name + "/gates");
      phaseVertices(gates, rnn::Phase::GruGates, hFull);
      const uint32_t shareRh = b.addExchange(name + "/share_rh");
      broadcast(shareRh, *rhBlocks, *rhFull);
      const uint32_t candidate = b.addComputeSet(name + "/candidate");
      phaseVertices(candidate, rnn::Phase::GruCandidate, *rhFull);
      b.execute(gates);
      b.exchange(shareRh);
      b.execute(candidate);
    } else {
      const uint32_t step = b.addComputeSet(name + "/step");
      phaseVertices(step, rnn::Phase::Step, hFull);
      b.execute(step);
    }
  });

  // 4. Outputs from the blocks.
  const uint32_t gather = b.addExchange(name + "/outputs");
  if (outY) {
    const TensorInfo& info = ctx.outputInfo(0);
    const uint32_t y = b.addVariable(ctx.outputVariableName(0), dtype, info.shape);
    for (size_t i = 0; i < blocks.size(); ++i) {
      const Block& k = blocks[i];
      for (uint64_t t = 0; t < S; ++t)
        for (uint64_t bb = 0; bb < B; ++bb) {
          const uint64_t dst = batchFirst ? ((bb * S + t) * dirs + k.direction) * H + k.first
                                          : ((t * dirs + k.direction) * B + bb) * H + k.first;
          b.addCopy(gather, {yBlocks.var, yBlocks.base[i] + (t * B + bb) * k.units, static_cast<uint64_t>(k.units)}, y, dst);
        }
    }
    ctx.setOutput(0, {y, dtype, info.shape});
  }
  auto stateOutput = [&](size_t output, const BlockBuffer& state) {
    const TensorInfo& info = ctx.outputInfo(output);
    const uint32_t var = b.addVariable(ctx.outputVariableName(output), dtype, info.shape);
    for (size_t i = 0; i < blocks.size(); ++i)
      for (uint64_t bb = 0; bb < B; ++bb)
        b.addCopy(gather, {state.var, state.base[i] + bb * blocks[i].units, static_cast<uint64_t>(blocks[i].units)}, var,
                  stateIndex(blocks[i].direction, bb, blocks[i].first));
    ctx.setOutput(output, {var, dtype, info.shape});
  };
  if (outH) stateOutput(1, hBlocks);
  if (outC) stateOutput(2, *cBlocks);
  b.exchange(gather);
}

}  // namespace

void registerRecurrentLowerings(LoweringRegistry& registry) {
  const std::vector<DType> floats = {DType::Float32, DType::Float16};
  registry.add({"RNN", 1, kNewestOpset, floats, kRecurrentMapping, [](LoweringContext& c) { lowerRecurrent(c, kRnn); }});
  registry.add({"GRU", 1, kNewestOpset, floats, kRecurrentMapping, [](LoweringContext& c) { lowerRecurrent(c, kGru); }});
  registry.add({"LSTM", 1, kNewestOpset, floats, kRecurrentMapping, [](LoweringContext& c) { lowerRecurrent(c, kLstm); }});
}

}  // namespace ipusim
