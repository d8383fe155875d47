/* o365_exclude.c - what the Office 365 rules must not take for Office 365: the Microsoft host
 * names that the endpoint list leaves out on purpose (consumer and marketing services), and the
 * nDPI protocol names that do name a Microsoft 365 service. Both are data: one table each. */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "o365_int.h"
#include "tlsaudit/common.h"
#include "tlsaudit/o365.h"

/* Names that are Microsoft's but not Office 365. A handshake whose SNI, or (without an SNI that
 * names anything) whose certificate, matches one of these and no pattern of the list in force is
 * not made Office 365 by a later rule (address range, banner, nDPI): these services share
 * Microsoft's networks and nDPI's generic "Microsoft" label with Office 365.
 *
 * Source: the endpoint sets that Microsoft's worldwide feed marks optional or shared and that the
 * built-in list (data/o365_endpoints.json, its "omitted" note) leaves out: set 50/78
 * (*.microsoft.com), 93 and 126 (bing), 97/116 (login.live.com, account.live.com: "Consumer
 * Outlook.com and OneDrive integration"), 114 (*.msn.com, c.live.com, docs.live.net,
 * signup.live.com), 125 (www.microsoft.com as a certificate site), and the shared Azure hosting
 * wildcards of sets 44, 67 and 72 (*.azureedge.net, *.blob.core.windows.net, *.cloudapp.net)
 * that older feeds listed; plus Microsoft's consumer brands that the feed never lists (Outlook.com
 * and Hotmail, consumer OneDrive, Xbox, LinkedIn, Skype's own site, Microsoft's marketing content
 * on Akamai as seen in the public Windows browser capture). A name the list holds (for instance
 * officespeech.platform.bing.com, platform.linkedin.com, www.outlook.com, *.skype.com) is
 * matched by the SNI or certificate rule before this table is read, so it keeps its verdict.
 * Patterns as in the feed (ta_o365_pattern_match): "*.live.com" does not match "live.com". */
#define MS_WEB "microsoft.com host the list does not name: corporate and marketing web"
static const struct ta__o365_excl excluded[] = {
    { "login.live.com", "consumer Microsoft account" },
    { "account.live.com", "consumer Microsoft account" },
    { "signup.live.com", "consumer Microsoft account" },
    { "onedrive.live.com", "consumer OneDrive" },
    { "outlook.live.com", "consumer Outlook.com" },
    { "live.com", "consumer Microsoft services on live.com" },
    { "*.live.com", "consumer Microsoft services on live.com" },
    { "live.net", "consumer Microsoft services on live.net" },
    { "*.live.net", "consumer Microsoft services on live.net" },
    { "outlook.com", "consumer Outlook.com" },
    { "hotmail.com", "consumer Outlook.com, formerly Hotmail" },
    { "*.hotmail.com", "consumer Outlook.com, formerly Hotmail" },
    { "onedrive.com", "consumer OneDrive" },
    { "*.onedrive.com", "consumer OneDrive" },
    { "microsoft.com", MS_WEB },
    { "*.microsoft.com", MS_WEB },
    { "*.s-microsoft.com", "Microsoft marketing web content" },
    { "*-microsoft-com.akamaized.net", "Microsoft marketing web content on Akamai" },
    { "statics-marketingsites-*.akamaized.net", "Microsoft marketing web content on Akamai" },
    { "microsoftstore.com", "Microsoft Store, consumer" },
    { "*.microsoftstore.com", "Microsoft Store, consumer" },
    { "bing.com", "Bing, consumer search" },
    { "*.bing.com", "Bing, consumer search" },
    { "bing.net", "Bing, consumer search" },
    { "*.bing.net", "Bing, consumer search" },
    { "msn.com", "MSN, consumer portal" },
    { "*.msn.com", "MSN, consumer portal" },
    { "xbox.com", "Xbox, consumer gaming" },
    { "*.xbox.com", "Xbox, consumer gaming" },
    { "xboxlive.com", "Xbox, consumer gaming" },
    { "*.xboxlive.com", "Xbox, consumer gaming" },
    { "linkedin.com", "LinkedIn" },
    { "*.linkedin.com", "LinkedIn" },
    { "*.licdn.com", "LinkedIn" },
    { "skype.com", "consumer Skype" },
    { "windowsupdate.com", "Windows Update" },
    { "*.windowsupdate.com", "Windows Update" },
    { "*.azureedge.net", "shared Azure hosting, any Azure customer" },
    { "*.blob.core.windows.net", "shared Azure hosting, any Azure customer" },
    { "*.cloudapp.net", "shared Azure hosting, any Azure customer" },
};

/* The literal tail of a pattern (after its last '*'), for a cheap suffix test before the label
 * match: a name can only match when it ends with that tail. */
static const char *literal_tail(const char *pattern)
{
    const char *star = strrchr(pattern, '*');
    return star ? star + 1 : pattern;
}

/* Does name (a trailing dot ignored) end with tail, ASCII case-insensitively? */
static bool ends_with(const char *name, size_t n, const char *tail)
{
    size_t m = strlen(tail);
    return n >= m && strncasecmp(name + n - m, tail, m) == 0;
}

/* See o365_int.h. Linear over a table of a few dozen rows; the suffix test rejects nearly every
 * row before the label match runs. */
const struct ta__o365_excl *ta__o365_excluded(const char *name)
{
    size_t n;
    if (!name || !*name || (n = strlen(name)) >= TA__O365_NAME_MAX)
        return NULL;
    if (name[n - 1] == '.')
        n--;
    for (size_t i = 0; i < TA_ARRAY_LEN(excluded); i++)
        if (ends_with(name, n, literal_tail(excluded[i].pattern)) &&
            ta_o365_pattern_match(excluded[i].pattern, name))
            return &excluded[i];
    return NULL;
}

/* See o365_int.h. */
const struct ta__o365_excl *ta__o365_excl_table(size_t *n)
{
    *n = TA_ARRAY_LEN(excluded);
    return excluded;
}

/* The nDPI protocol names (nDPI 4.2: /usr/include/ndpi/ndpi_protocol_ids.h, the names
 * ndpi_get_proto_name prints) that name a Microsoft 365 service, with its service area.
 * Left out on purpose: "Microsoft" (212) and "Azure" (276), which nDPI gives to every Microsoft
 * and Azure host (www.microsoft.com, Bing's CDN, customers' Azure sites); "Hotmail" (21), which
 * 4.2 gives to the consumer mail hosts (outlook.live.com, mail.live.com); "SkypeCall" (38),
 * consumer Skype calls; "Xbox", "LinkedIn", "WindowsUpdate". "Outlook" is the name later nDPI
 * releases give protocol 21 for Outlook/Exchange Online, and "OneDrive" a spelling of 221. */
static const struct {
    const char *name, *area;
} ndpi_labels[] = {
    { "Microsoft365", "Common" },
    { "Outlook", "Exchange" },
    { "Teams", "Skype" },
    { "Skype_Teams", "Skype" },
    { "MS_OneDrive", "SharePoint" },
    { "OneDrive", "SharePoint" },
};

/* See o365_int.h. nDPI writes "master.app" ("TLS.Teams", "QUIC.Microsoft365") or one name; each
 * dot-separated part is compared whole, so "TeamSpeak" or "TeamViewer" is not "Teams". */
const char *ta__o365_ndpi_area(const char *label)
{
    while (label && *label) {
        size_t len = strcspn(label, ".");
        for (size_t i = 0; i < TA_ARRAY_LEN(ndpi_labels); i++)
            if (strlen(ndpi_labels[i].name) == len &&
                strncasecmp(label, ndpi_labels[i].name, len) == 0)
                return ndpi_labels[i].area;
        label += len;
        if (*label == '.')
            label++;
    }
    return NULL;
}
