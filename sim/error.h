// The exception type of the machine model: a message a user can act on.
#pragma once
#include <stdexcept>

namespace ipusim {

class SimError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ipusim
