// Boost.Asio compiled once, here (BOOST_ASIO_SEPARATE_COMPILATION is a public definition of
// corm::corm), instead of in every translation unit that includes an Asio header.
#include <boost/asio/impl/src.hpp>
