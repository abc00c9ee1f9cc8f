// A workaround for CAF 0.17.6's OpenSSL module, which leaves OpenSSL's per-thread error queue
// full after a failed TLS handshake (the log statement that would empty it is compiled out).
// SSL_get_error then reports that stale error for the next connection served on the same
// thread, and CAF closes it: one stranger's failed handshake dropped healthy links between
// nodes. OpenSSL asks for an empty queue before each I/O call; troupe's own definitions of
// SSL_read, SSL_write, SSL_accept and SSL_connect (in the .cpp) empty it and call OpenSSL's.
#pragma once

namespace troupe {

// Keeps the wrappers linked into a binary that uses node-to-node TLS; does nothing else.
void use_clean_openssl_error_queue();

}  // namespace troupe
