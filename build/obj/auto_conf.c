#include "conf.h"
const char *const conf_home = "/var/postern";
const char *const conf_users[USER_COUNT] = {"postern-queue","postern-send","postern-smtpd","postern-remote","postern-tls","postern-keys","postern-auth","postern-log","postern-vmail","postern-alias"};
const char *const conf_groups[GROUP_COUNT] = {"postern","postern-nofiles"};
