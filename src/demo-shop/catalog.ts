/** What the demo shop sells. Fixed, so journeys and checks can name products by SKU. */
export interface Product {
  sku: string;
  name: string;
  priceCents: number;
}

export const PRODUCTS: readonly Product[] = [
  { sku: 'mug', name: 'Pathwatch Mug', priceCents: 1200 },
  { sku: 'tshirt', name: 'Pathwatch T-shirt', priceCents: 2500 },
  { sku: 'stickers', name: 'Sticker Pack', priceCents: 400 },
];

export function findProduct(sku: string): Product | undefined {
  return PRODUCTS.find((product) => product.sku === sku);
}

/** 1200 → `$12.00`: prices are kept in cents so totals never suffer float rounding. */
export function formatPrice(cents: number): string {
  return `$${(cents / 100).toFixed(2)}`;
}
