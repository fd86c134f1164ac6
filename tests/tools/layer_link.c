/*
 * layer_link.c - the whole program of a layer link check (tests/CMakeLists:
 * layercheck_<layer>): every object of one collector/ layer, linked with
 * the layers below it only.  It links when no call points up.
 */
int main(void)
{
	return 0;
}
