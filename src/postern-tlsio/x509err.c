/* BearSSL's X.509 errors by name, for the failed line of a client that
 * refused the server's certificate: "not trusted" and "bad server name"
 * tell an administrator what to fix, error=62 does not. */
#include "tlsio.h"

const char *x509_error_name(int err)
{
	switch (err) {
	case BR_ERR_X509_NOT_TRUSTED: return "certificate not trusted";
	case BR_ERR_X509_BAD_SERVER_NAME: return "certificate for another name";
	case BR_ERR_X509_EXPIRED: return "certificate expired or not yet valid";
	case BR_ERR_X509_TIME_UNKNOWN: return "certificate validity unknown: no clock";
	case BR_ERR_X509_BAD_SIGNATURE: return "certificate signature does not verify";
	case BR_ERR_X509_EMPTY_CHAIN: return "no certificate";
	case BR_ERR_X509_NOT_CA: return "certificate chain with an issuer that is no CA";
	case BR_ERR_X509_FORBIDDEN_KEY_USAGE: return "certificate key usage forbids it";
	case BR_ERR_X509_WEAK_PUBLIC_KEY: return "certificate key too weak";
	case BR_ERR_X509_WRONG_KEY_TYPE: return "certificate key of the wrong type";
	case BR_ERR_X509_CRITICAL_EXTENSION: return "certificate with an unknown critical extension";
	case BR_ERR_X509_DN_MISMATCH: return "certificate chain broken: issuer names do not match";
	case BR_ERR_X509_UNSUPPORTED: return "certificate with an unsupported algorithm";
	case BR_ERR_X509_LIMIT_EXCEEDED: return "certificate beyond BearSSL's limits";
	default:
		return err > BR_ERR_X509_OK && err <= BR_ERR_X509_NOT_TRUSTED ? "malformed certificate" : 0;
	}
}
