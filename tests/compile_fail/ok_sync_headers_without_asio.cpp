// Must compile: a synchronous program's headers bring in no Boost.Asio. Every Asio header
// includes boost/asio/detail/config.hpp, whose include guard this checks.
#include <corm/corm.hpp>
#include <corm/ext/repository.hpp>
#include <corm/ext/routing.hpp>
#include <corm/ext/scoped_session.hpp>
#include <corm/ext/session_factory.hpp>
#include <corm/ext/transactional.hpp>
#include <corm/migrate.hpp>
#include <corm/orm/session.hpp>
#include <corm/sql.hpp>

#ifdef BOOST_ASIO_DETAIL_CONFIG_HPP
#error "a synchronous corm header included Boost.Asio"
#endif

int main() { return 0; }
