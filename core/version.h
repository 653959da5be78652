/* version.h: tandem's own version and the Redis version whose behaviour it
 * matches (INFO's redis_version, HELLO's version: clients check it). */
#ifndef TANDEM_VERSION_H
#define TANDEM_VERSION_H

#define TANDEM_VERSION "0.1.0"
#define TANDEM_REDIS_VERSION "7.0.15"

#endif
