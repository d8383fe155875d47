/* replay_main.c - runs files (or every file of directories) through LLVMFuzzerTestOneInput, so
 * fuzz targets replay their corpus under gcc and the sanitizers without libFuzzer. Exits 1 when
 * no input was found or one could not be read; a crash is the sanitizer's. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX (1u << 20)

static uint8_t replay_buf[REPLAY_MAX];

/* Run one file; returns 0 on success, -1 when it cannot be read. */
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    if (!f) {
        perror(path);
        return -1;
    }
    n = fread(replay_buf, 1, sizeof replay_buf, f);
    fclose(f);
    LLVMFuzzerTestOneInput(replay_buf, n);
    return 0;
}

int main(int argc, char **argv)
{
    int files = 0, errors = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            errors++;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            errors += replay_file(argv[i]) != 0;
            files++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            char path[4096];
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                errors += replay_file(path) != 0;
                files++;
            }
        }
        if (d)
            closedir(d);
    }
    printf("replayed %d inputs, %d unreadable\n", files, errors);
    printf("%d passed, %d failed\n", files - errors, errors);
    return files == 0 || errors ? 1 : 0;
}
