/* dissectors.c - the dissector registry, in probe order: TLS first (content on any port), then
 * the STARTTLS text protocols, then the generic prelude fallback last. */
#include "tlsaudit/dissector.h"

const struct ta_dissector *const ta_dissectors[TA_DIS_COUNT] = {
    [TA_DIS_NONE] = NULL,
    [TA_DIS_TLS] = &ta_dissector_tls,
    [TA_DIS_SMTP] = &ta_dissector_smtp,
    [TA_DIS_IMAP] = &ta_dissector_imap,
    [TA_DIS_POP3] = &ta_dissector_pop3,
    [TA_DIS_FTP] = &ta_dissector_ftp,
    [TA_DIS_GENERIC] = &ta_dissector_generic,
};
