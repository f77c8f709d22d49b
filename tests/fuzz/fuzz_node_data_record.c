/*  fuzz_node_data_record: libFuzzer harness for the data owner's record reader
 *  (node_data_record_check, node/service/node_data.h), which reads DATADIR/data/records/
 *  files: a damaged or planted file must be refused with a reason, never crash.
 *
 *  Input: the 32-byte id the file is named after, then the file's bytes. The reader must
 *  return 0 or NODE_E_CORRUPT (with a reason), and on 0 give a record within every bound:
 *  the wanted id, a known data type, 1..NODE_DATA_MAX bytes, a printable name. The corpus
 *  holds valid records (genotype and phenotype, empty and longest names), a wrong-id
 *  pairing, a version 2 and a truncated one.
 */
#include <stdint.h>
#include <string.h>

#include "node/service/node_data.h"
#include "proto/proto_report.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 32)
        return 0;
    node_data_info_t info;
    char err[256] = "";
    memset(&info, 0xa5, sizeof info);
    int rc = node_data_record_check(data + 32, size - 32, data, &info, err, sizeof err);
    fuzz_require(rc == 0 || rc == NODE_E_CORRUPT, "record reader returned a stray code");
    if (rc != 0) {
        fuzz_require(err[0] != '\0', "a refusal without a reason");
        return 0;
    }
    fuzz_require(memcmp(info.id, data, 32) == 0, "accepted a record of another id");
    fuzz_require(info.type == PROTO_DATA_GENOTYPE || info.type == PROTO_DATA_PHENOTYPE,
                 "accepted an unknown data type");
    fuzz_require(info.size >= 1 && info.size <= NODE_DATA_MAX, "accepted a size out of bounds");
    size_t n = strnlen(info.name, sizeof info.name);
    fuzz_require(n <= NODE_DATA_NAME_MAX, "name not terminated in bounds");
    for (size_t i = 0; i < n; i++)
        fuzz_require(info.name[i] >= 0x20 && info.name[i] <= 0x7e, "accepted a control byte");
    return 0;
}
