/*  genie-measure: prints the measurement of an enclave executable, as a host would compute
 *  it before starting it (enclave_measure_path: BLAKE2b-256 over the binary and the kind).
 *  Used by scripts/enclave-reproduce.sh until `genie enclave measure FILE` exists in node/.
 *
 *  usage: genie-measure FILE [KIND]   (KIND defaults to "validation"; prints 64 hex digits)
 */
#include <stdio.h>

#include "enclave/enclave_measure.h"

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: genie-measure FILE [KIND]\n");
        return 2;
    }
    const char *kind = argc == 3 ? argv[2] : "validation";
    uint8_t m[ENCLAVE_MEASUREMENT_LEN];
    char err[256] = "";
    int rc = enclave_measure_path(argv[1], kind, m, err, sizeof err);
    if (rc) {
        fprintf(stderr, "genie-measure: %s: %s\n", argv[1], err[0] ? err : proto_err_str(rc));
        return 1;
    }
    for (size_t i = 0; i < sizeof m; i++)
        printf("%02x", m[i]);
    printf("\n");
    return 0;
}
