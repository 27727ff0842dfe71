#include "corm/ext/routing.hpp"

namespace corm::ext {

bool ReadWriteRouter::to_reader(orm::StatementRole role) {
  bool reader = false;
  switch (role) {
    case orm::StatementRole::write:
      wrote_ = true;  // from now on this transaction reads its own writes on the writer
      break;
    case orm::StatementRole::read_for_write:
      wrote_ = true;  // row locks exist only on the writer; the transaction now works there
      break;
    case orm::StatementRole::read:
      reader = pinned_ ? *pinned_ == Route::reader : !wrote_;
      break;
  }
  last_ = reader ? Route::reader : Route::writer;
  ++(reader ? to_reader_ : to_writer_);
  return reader;
}

}  // namespace corm::ext
