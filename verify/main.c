/* build/streamverify: everything is in the library. */
#include "internal.h"

int main(int argc, char **argv)
{
	return sv_cli_main(argc, argv);
}
