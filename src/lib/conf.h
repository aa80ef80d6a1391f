/* Build-time settings from the conf- files (generated into auto_conf.c by
 * the Makefile): the default install home and the names of postern's users
 * and groups, in the order conf-users and conf-groups list them. */
#ifndef POSTERN_CONF_H
#define POSTERN_CONF_H
enum conf_user {
	USER_QUEUE, USER_SEND, USER_SMTPD, USER_REMOTE, USER_TLS,
	USER_KEYS, USER_AUTH, USER_LOG, USER_VMAIL, USER_ALIAS, USER_POP3, USER_SUBMIT, USER_DKIM, USER_SRS,
	USER_COUNT
};
/* (A group postern-srs, which an older postern gave postern-send and
 * postern-smtpd to read the SRS key by, is gone: the key is postern-srs's,
 * the user's, and that alone reads it; doc/srs.md.) */
enum conf_group { GROUP_POSTERN, GROUP_NOFILES, GROUP_COUNT };
extern const char *const conf_home;
extern const char *const conf_users[USER_COUNT];
extern const char *const conf_groups[GROUP_COUNT];
#endif
