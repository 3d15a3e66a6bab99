// The compiled part of Boost.Asio and Boost.Beast, once for the whole program.
//
// segmentd builds Asio and Beast in their "separate compilation" mode (BOOST_ASIO_SEPARATE_COMPILATION
// and BOOST_BEAST_SEPARATE_COMPILATION, set on segmentd_service for everything that links it): their
// non-template functions (error categories, the HTTP parser, websocket handshake and masking, the
// deflate codec, the reactor) are compiled here instead of in every file that uses a socket. That
// took a third of the CPU time of each Beast session file, in each of CI's three builds.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
